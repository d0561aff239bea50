import { defineCommand } from "citty";
import { resolveModelPath } from "./model-path.js";
import type { OnnxSource } from "../pipeline/source.js";
import { cliSettings, sharedArgs } from "./options.js";
import { printOut } from "./print.js";

export default defineCommand({
  meta: { name: "analyze", description: "the memory report: weights, activations, peak, allocator, runtime overhead, total" },
  args: {
    ...sharedArgs,
    html: { type: "string", description: "write a self-contained HTML report to FILE" },
  },
  async run({ args, rawArgs }) {
    // Each path imports only what it runs: an LLM config never loads the ONNX shape engine, and back.
    // MODEL by what is there (a folder's model, a file's first bytes), not by its name.
    const target = resolveModelPath(args.model);
    // An LLM (config.json, safetensors) or a GGUF: on llama.cpp unless --runtime says otherwise.
    if (target.kind === "llm") {
      const { analyzeLlmCli } = await import("./llm.js");
      return analyzeLlmCli(target.path, args, rawArgs);
    }
    const [{ onnxPipeline }, { renderExplanation }, { loadForCli }, { checkReportFiles, reportFiles, writeReportFiles }, { onnxInputFiles }] = await Promise.all([
      import("../pipeline/onnx.js"),
      import("../report/explain.js"),
      import("./load.js"),
      import("./report-files.js"),
      import("../quantize/save.js"),
    ]);
    const loaded = loadForCli(target.path);
    const files = reportFiles(args, rawArgs, onnxInputFiles(loaded.path, loaded.model));
    checkReportFiles(files);
    const source: OnnxSource = { kind: "onnx", model: loaded.model, openExternal: loaded.openExternal, warnings: [] };
    const settings = cliSettings(args, rawArgs);
    // The graph's own pipeline module (what pipeline/estimate.ts dispatches to).
    const report = onnxPipeline.estimate(source, settings);
    if (args.json && files.json === undefined) printOut(JSON.stringify(report) + "\n");
    else printOut(renderExplanation(report));
    await writeReportFiles(files, report, async () => (await import("../pipeline/sweep.js")).withCharts(report, source, settings));
  },
});
