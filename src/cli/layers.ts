import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import type { Report } from "../contract/report.js";
import { analyzeOptions, sharedArgs } from "./options.js";
import { resolveModelPath } from "./model-path.js";
import { printOut } from "./print.js";
import { checkReportFiles, reportFiles, writeJsonFile } from "./report-files.js";

export default defineCommand({
  meta: { name: "layers", description: "per-layer table: op, output shapes, activation bytes, parameter bytes, FLOPs" },
  args: sharedArgs,
  async run({ args, rawArgs }) {
    // The same MODEL as analyze and fit: an LLM's layers are its eager ops (src/llm/), an ONNX model's its nodes.
    const target = resolveModelPath(args.model);
    let report: Report;
    if (target.kind === "llm") {
      const [{ estimate, onLlamaCpp }, { openSource }, { llmInputFiles }, { cliSettings }] = await Promise.all([
        import("../pipeline/estimate.js"),
        import("../pipeline/source-node.js"),
        import("../llm/source.js"),
        import("./options.js"),
      ]);
      const settings = cliSettings(args, rawArgs);
      const source = openSource(target.path, true);
      // A GGUF on llama.cpp (its default runtime) holds tensors but no graph: its per-buffer view is analyze's.
      // With --runtime pytorch-cuda it is the architecture's eager ops, like its config.json.
      if (onLlamaCpp(source, settings)) throw new UsageError(`${args.model}: a GGUF file has no graph to list layer by layer on llama.cpp; memlens analyze shows llama.cpp's buffers for it (layers --runtime pytorch-cuda lists the architecture's eager ops)`);
      const files = reportFiles(args, rawArgs, llmInputFiles(target.path));
      checkReportFiles(files);
      report = estimate(source, settings);
      return print(report, args.json === true, files);
    }
    const [{ analyzeModel }, { loadForCli }, { onnxInputFiles }] = await Promise.all([import("../analyze.js"), import("./load.js"), import("../quantize/save.js")]);
    const loaded = loadForCli(target.path);
    const files = reportFiles(args, rawArgs, onnxInputFiles(target.path, loaded.model));
    checkReportFiles(files);
    report = analyzeModel(loaded.model, { ...analyzeOptions(args, rawArgs), openExternal: loaded.openExternal }).report;
    return print(report, args.json === true, files);
  },
});

async function print(report: Report, json: boolean, files: ReturnType<typeof reportFiles>): Promise<void> {
  const { renderLayers } = await import("../report/layers-table.js");
  const out = { schema: report.schema, model: report.model, settings: report.settings, layers: report.layers, warnings: report.warnings };
  if (json && files.json === undefined) printOut(JSON.stringify(out) + "\n");
  else printOut(renderLayers(report));
  writeJsonFile(files, out);
}
