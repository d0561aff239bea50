import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { llmInputFiles } from "../llm/source.js";
import { estimate, onLlamaCpp } from "../pipeline/estimate.js";
import { fit, MAX_SEARCH } from "../pipeline/fit.js";
import { withAxis } from "../pipeline/kind.js";
import { llmSettingsOf } from "../pipeline/settings.js";
import { eagerSource, sourceName } from "../pipeline/source.js";
import { openSource } from "../pipeline/source-node.js";
import { onnxInputFiles } from "../quantize/save.js";
import { bytes } from "../report/format.js";
import { cliSettings, sharedArgs } from "./options.js";
import { printOut } from "./print.js";
import { checkReportFiles, reportFiles, writeJsonFile } from "./report-files.js";

const SOLVE_CHOICES: string[] = ["batch", "seq"];

export default defineCommand({
  meta: { name: "fit", description: "the largest batch (or context length) that fits the device" },
  args: { ...sharedArgs, solve: { type: "enum", options: SOLVE_CHOICES, description: "batch|seq: the dimension to maximise", default: "batch" } },
  async run({ args, rawArgs }) {
    const solve = args.solve === "seq" ? "seq" : args.solve === "batch" || args.solve === undefined ? "batch" : undefined;
    if (!solve) throw new UsageError(`--solve must be batch or seq, got '${String(args.solve)}'`);
    const { resolveModelPath } = await import("./model-path.js");
    const target = resolveModelPath(args.model);
    const path = target.path;
    const opened = openSource(path, target.kind === "llm");
    const settings = cliSettings(args, rawArgs);
    const gguf = onLlamaCpp(opened, settings);
    if (gguf) {
      // llama.cpp's --fit: the context and the layers on the GPU, every buffer of the plan (cli/llamacpp.ts prints it).
      const { printLlamaCppFit } = await import("./llamacpp.js");
      return printLlamaCppFit(gguf.file, fit(gguf, settings, solve), args["json"] === true);
    }
    const source = opened.kind === "gguf" ? eagerSource(opened) : opened;
    const files = reportFiles(args, rawArgs, source.kind === "onnx" ? onnxInputFiles(path, source.model) : llmInputFiles(path));
    checkReportFiles(files);
    const warnings: string[] = [];
    // The defaults a transformer's estimate takes (the prompt length) are said once, not at every search step.
    if (source.kind !== "onnx") llmSettingsOf(settings, source.llm.arch, warnings, settings.mode === "train");
    // An ONNX graph's other symbolic dims (seq when solving for the batch) take analyze's default: say which, once.
    else for (const w of estimate(source, withAxis(settings, solve, 1)).warnings) if (/^dimension '.*' not set: using/.test(w)) warnings.push(w);
    const r = fit(source, settings, solve);
    const key = solve === "batch" ? "maxBatch" : "maxContext";
    writeJsonFile(files, { device: r.device, capacity: r.capacity, [key]: r.max, total: r.total });
    if (args.json && files.json === undefined) {
      printOut(JSON.stringify({ device: r.device, capacity: r.capacity, [key]: r.max, total: r.total }) + "\n");
      return;
    }
    const name = sourceName(source);
    const what = solve === "batch" ? "batch" : "context length (seq)";
    if (r.max === 0) printOut(`${name}: does not fit on ${r.device} (${bytes(r.capacity)}) even at ${what} 1: needs ${bytes(r.total)}\n`);
    else {
      const bound = r.bounded ? ` (search stopped at ${MAX_SEARCH})` : "";
      printOut(`${name}: largest ${what} on ${r.device}: ${r.max}${bound}, using ${bytes(r.total)} of ${bytes(r.capacity)}\n`);
      if (r.positions && r.max === r.positions.positions) printOut(`note: capped at the model's ${r.positions.positions.toLocaleString("en-US")} positions (position table ${r.positions.table}); more memory would not make a longer context run\n`);
    }
    for (const w of warnings) printOut(`warning: ${w}\n`);
  },
});
