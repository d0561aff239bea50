import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { analyzeModel } from "../analyze.js";
import { renderLayers } from "../report/layers-table.js";
import { loadForCli } from "./load.js";
import { analyzeOptions, sharedArgs } from "./options.js";
import { printOut } from "./print.js";
import { onnxInputFiles } from "../quantize/save.js";
import { checkReportFiles, reportFiles, writeJsonFile } from "./report-files.js";

export default defineCommand({
  meta: { name: "layers", description: "per-layer table: op, output shapes, activation bytes, parameter bytes, FLOPs" },
  args: sharedArgs,
  run({ args, rawArgs }) {
    // A GGUF holds tensors but no graph: its per-buffer view is analyze's (the llama.cpp runtime).
    if (/\.gguf$/i.test(args.model)) throw new UsageError(`${args.model}: a GGUF file has no graph to list layer by layer; memlens analyze shows llama.cpp's buffers for it`);
    const loaded = loadForCli(args.model);
    const files = reportFiles(args, rawArgs, onnxInputFiles(loaded.path, loaded.model));
    checkReportFiles(files);
    const opts = { ...analyzeOptions(args, rawArgs), openExternal: loaded.openExternal };
    const { report } = analyzeModel(loaded.model, opts);
    const json = { schema: report.schema, model: report.model, settings: report.settings, layers: report.layers, warnings: report.warnings };
    if (args.json && files.json === undefined) printOut(JSON.stringify(json) + "\n");
    else printOut(renderLayers(report));
    writeJsonFile(files, json);
  },
});
