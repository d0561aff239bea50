/**
 * analyze for LLMs given as a hub folder, config.json, safetensors or GGUF (no ONNX graph): the one pipeline
 * (pipeline/estimate.ts) with the CLI's settings. Same Report, same renderers, same JSON contract as ONNX models.
 */
import { llmInputFiles } from "../llm/source.js";
import { architecturePipeline } from "../pipeline/architecture.js";
import { openSource } from "../pipeline/source-node.js";
import { renderExplanation } from "../report/explain.js";
import { cliSettings } from "./options.js";
import { printOut } from "./print.js";
import { checkReportFiles, reportFiles, writeReportFiles } from "./report-files.js";

export async function analyzeLlmCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): Promise<void> {
  const files = reportFiles(args, rawArgs, llmInputFiles(path));
  checkReportFiles(files);
  const source = openSource(path);
  if (source.kind === "onnx") throw new Error("unreachable: an LLM path opened as ONNX");
  const settings = cliSettings(args, rawArgs);
  // The architecture's own pipeline module (what pipeline/estimate.ts dispatches to): the shape engine never loads.
  const report = architecturePipeline.estimate(source, settings);
  printOut(args["json"] && files.json === undefined ? JSON.stringify(report) + "\n" : renderExplanation(report));
  // The batch/context sweeps are inference estimates: a training report is written without them.
  await writeReportFiles(files, report, async () => (settings.mode === "train" ? report : (await import("../pipeline/sweep.js")).withCharts(report, source, settings)));
}
