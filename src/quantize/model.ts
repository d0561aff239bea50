/**
 * quantize(model, options): the seed's Example 3. It returns a model of the same kind loadModel returns
 * (predict with one image or an array, layers, memory, save(path)) plus `report`, what quantizing saved and
 * cost. The quantized graph is held in memory until saved; it keeps the source's preprocessing and labels,
 * and save() writes them into the file's metadata_props.
 */
import { basename } from "node:path";
import { encodeModelParts } from "../formats/onnx/writer.js";
import { MemlensModel, type LoadModelOptions } from "../runtime/model.js";
import { quantizeGraph, type QuantizeOptions, type QuantizeReport } from "./quantize.js";
import { defaultOutputPath } from "./save.js";

export class QuantizedModel extends MemlensModel {
  private constructor(
    source: MemlensModel,
    graph: MemlensModel["graph"],
    readonly report: QuantizeReport,
    options: LoadModelOptions,
  ) {
    super(
      {
        graph,
        ...(source.path !== undefined ? { sourcePath: source.path } : {}),
        ...(source.openExternal ? { openExternal: source.openExternal } : {}),
        preprocessing: source.preprocessing,
        inputFiles: source.inputFiles,
      },
      undefined,
      options,
    );
  }

  /** Quantize `source` (see QuantizeOptions); the source stays usable and unchanged. */
  static async from(source: MemlensModel, opts: QuantizeOptions = {}): Promise<QuantizedModel> {
    const { model: graph, report } = await quantizeGraph(
      {
        model: source.graph,
        ...(source.openExternal ? { openExternal: source.openExternal } : {}),
        ...(source.path !== undefined ? { path: source.path } : {}),
        ...(source.fileBytes !== undefined ? { fileBytes: source.fileBytes } : {}),
        imageSpec: () => source.imageSpec(),
        ...(source.labels ? { labels: source.labels } : {}),
      },
      opts,
    );
    const bits = report.bits;
    const file = source.path !== undefined ? basename(defaultOutputPath(source.path, bits)) : `${source.summary.file.replace(/\.onnx$/i, "")}.int${bits}.onnx`;
    const q = new QuantizedModel(source, { ...graph, file }, report, source.runOptions);
    // The file as save() writes it beside the source (metadata included; external weights referenced, not embedded).
    report.fileBytes.after = encodeModelParts(q.withMetadata(), { externalData: "keep" }).size;
    return q;
  }
}

/** quantize(model | path, options): a QuantizedModel that runs, with its report. */
export async function quantize(model: MemlensModel | string, opts: QuantizeOptions = {}): Promise<QuantizedModel> {
  return QuantizedModel.from(typeof model === "string" ? MemlensModel.load(model) : model, opts);
}
