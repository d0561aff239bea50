/**
 * quantizeGraph(model, options): the quantized graph and a report of what it saves and costs. The library's
 * quantize() (src/quantize/model.ts) wraps the graph in a model that runs; the CLI is a thin layer over that.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { analyzeModel, summarizeModel } from "../analyze.js";
import { UsageError } from "../errors.js";
import { findRuntime } from "../memory/runtimes.js";
import type { Model } from "../graph/ir.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import { encodeModelParts } from "../formats/onnx/writer.js";
import type { HostTensor } from "../runtime/ort.js";
import { imageSpecFor, type ImageSpec, type InputDescription } from "../runtime/preprocess.js";
import { assumptionWarning, resolvePreprocessing, type ResolvedPreprocessing } from "../runtime/preprocessing.js";
import { calibrate, type CalibrationMethod } from "./calibrate.js";
import { imagesInFolder, labelledImages, toBatches } from "./dataset.js";
import { quantizeDynamic } from "./dynamic.js";
import { GraphEditor } from "./graph-edit.js";
import { quantizeInt4 } from "./int4.js";
import { evaluate, ortRunner, type Runner } from "./run.js";
import { calibrationTensors, quantizeStatic, type TransformResult } from "./static-qdq.js";

export interface QuantizeOptions {
  bits?: 8 | 4;
  /** int8 only. Default: static when calibration images are available, else dynamic. */
  mode?: "static" | "dynamic";
  /** Calibration images: a folder, or float batches. Default: `calibration/` next to the model. */
  calibrate?: string | HostTensor[];
  /** At most this many calibration images (default all). */
  calibrationLimit?: number;
  method?: CalibrationMethod;
  /** For method "percentile" (default 99.99). */
  percentile?: number;
  /** Node names, output names, or `first` / `last` (weighted layers). */
  keepFloat?: string[];
  /** int4 block size along K (default 32). */
  blockSize?: 32 | 128;
  /** 7-bit int8 weights, for CPUs without VNNI (default false). */
  reduceRange?: boolean;
  /** Labelled images (LABEL/*.png folder or an IDX dataset folder): measure accuracy before and after. */
  evaluate?: string;
  evaluateLimit?: number;
  /** The runtime whose memory is predicted before and after (default ort-cpu) and the batch. */
  runtime?: string;
  batch?: number;
  /** Runs the models (calibration, accuracy); default onnxruntime on CPU. */
  runner?: Runner;
}

export interface QuantizeReport {
  bits: 4 | 8;
  mode: "static" | "dynamic" | "weight-only";
  method?: CalibrationMethod;
  calibrationImages?: number;
  fileBytes: { before: number | null; after: number };
  weightBytes: { before: number; after: number };
  memory: { runtime: string; batch: number; before: number | null; after: number | null };
  nodes: { quantized: number; keptFloat: { name: string; op: string; reason: string }[] };
  accuracy?: { images: number; before: number; after: number; agreement: number };
  seconds: { calibrate: number; quantize: number; evaluate: number };
  warnings: string[];
}

export interface Quantizable {
  model: Model;
  openExternal?: ExternalOpener;
  /** The model's file: for its calibration/ folder and size. */
  path?: string;
  fileBytes?: number;
  /** How images become the model's input (calibration, accuracy); default: from the input's shape. */
  imageSpec?: () => ImageSpec;
  /** Class names, for labelled folders named by class. */
  labels?: string[];
}

function toQuantizable(input: Model | Quantizable): Quantizable {
  return "format" in input ? { model: input } : input;
}

export async function quantizeGraph(input: Model | Quantizable, opts: QuantizeOptions = {}): Promise<{ model: Model; report: QuantizeReport }> {
  const src = toQuantizable(input);
  const bits = opts.bits ?? 8;
  if (bits !== 8 && bits !== 4) throw new UsageError(`--bits ${String(bits)}: use 8 or 4`);
  const keepFloat = opts.keepFloat ?? [];
  const warnings: string[] = [];
  const runner = opts.runner ?? ortRunner();
  const seconds = { calibrate: 0, quantize: 0, evaluate: 0 };
  // A bare graph: its preprocessing from the sidecar and metadata_props as loadModel reads them, and a warning
  // (in the report) when images are prepared with assumed values.
  const own = src.imageSpec ? undefined : ownPreprocessing(src);
  const spec = src.imageSpec ?? (() => imageSpec(src.model, own!.resolved));
  const labels = src.labels ?? own?.resolved.labels;
  const assumed = () => {
    if (own?.warning && !warnings.includes(own.warning)) warnings.push(own.warning);
  };

  let calib = opts.calibrate;
  if (calib === undefined && src.path) {
    const dflt = join(dirname(src.path), "calibration");
    if (existsSync(dflt)) calib = dflt;
  }
  const mode = bits === 4 ? "weight-only" : (opts.mode ?? (calib !== undefined ? "static" : "dynamic"));
  if (mode === "static" && calib === undefined) {
    throw new UsageError("static quantization needs calibration images (--calibrate DIR)");
  }
  const e = new GraphEditor(src.model, src.openExternal);
  let result: TransformResult;
  let calibrationImages: number | undefined;
  const t0 = performance.now();
  if (mode === "static") {
    const method = opts.method ?? "minmax";
    if (typeof calib === "string") assumed();
    const batches = typeof calib === "string" ? toBatches(await imagesInFolder(calib, spec(), opts.calibrationLimit), spec(), 64) : calib!;
    calibrationImages = batches.reduce((a, b) => a + (b.dims[0] ?? 0), 0);
    const staticOpts = { keepFloat, reduceRange: opts.reduceRange ?? false };
    const tensors = calibrationTensors(new GraphEditor(src.model, src.openExternal), staticOpts);
    const ranges = await calibrate(src.model, tensors, batches, { method, percentile: opts.percentile ?? 99.99, run: runner.forEach });
    seconds.calibrate = (performance.now() - t0) / 1000;
    result = quantizeStatic(e, ranges, staticOpts);
  } else if (mode === "dynamic") {
    result = quantizeDynamic(e, { keepFloat, reduceRange: opts.reduceRange ?? false });
  } else {
    result = quantizeInt4(e, { keepFloat, blockSize: opts.blockSize ?? 32 });
  }
  const extra: Record<string, number> = bits === 4 ? { "com.microsoft": 1 } : {};
  const model = e.build(extra, bits === 4 ? 1 : mode === "static" ? 13 : 11);
  seconds.quantize = (performance.now() - t0) / 1000 - seconds.calibrate;
  warnings.push(...result.warnings);
  for (const k of keepFloat) {
    if (k !== "first" && k !== "last" && !src.model.graph.nodes.some((n) => n.name === k || n.outputs.includes(k))) {
      warnings.push(`--keep-float ${k}: no node or tensor of that name`);
    }
  }
  if (result.quantized.length === 0) warnings.push("no node was quantized: nothing in this model matched (see nodes.keptFloat)");
  const convs = result.skipped.filter((s) => s.node.opType === "Conv").length;
  if (bits === 4 && convs > 0) {
    warnings.push(`int4 applies to MatMul/Gemm weights: ${result.quantized.length} of ${result.quantized.length + convs} weighted layers quantized, the ${convs} Conv layers stay float (--bits 8 quantizes convolutions)`);
  }

  const runtime = opts.runtime ?? "ort-cpu";
  const batch = opts.batch ?? 1;
  const report: QuantizeReport = {
    bits,
    mode,
    ...(mode === "static" ? { method: opts.method ?? "minmax", calibrationImages } : {}),
    fileBytes: { before: src.fileBytes ?? null, after: encodeModelParts(model, { externalData: "keep" }).size },
    weightBytes: { before: summarizeModel(src.model).weightBytes, after: summarizeModel(model).weightBytes },
    memory: { runtime, batch, before: predictTotal(src.model, runtime, batch, src.openExternal, warnings, "float"), after: predictTotal(model, runtime, batch, src.openExternal, warnings, "quantized") },
    nodes: {
      quantized: result.quantized.length,
      keptFloat: result.skipped.map((s) => ({ name: s.node.name, op: s.node.opType, reason: s.reason })),
    },
    seconds,
    warnings,
  };
  if (opts.evaluate) {
    const t1 = performance.now();
    assumed();
    const data = await labelledImages(opts.evaluate, spec(), labels ?? [], opts.evaluateLimit);
    const batches = toBatches(data.images, spec(), 256);
    const before = await evaluate(runner, src.model, batches, src.openExternal);
    const after = await evaluate(runner, model, batches, src.openExternal);
    const n = data.labels.length;
    let ok0 = 0;
    let ok1 = 0;
    let agree = 0;
    for (let i = 0; i < n; i++) {
      if (before[i] === data.labels[i]) ok0++;
      if (after[i] === data.labels[i]) ok1++;
      if (before[i] === after[i]) agree++;
    }
    report.accuracy = { images: n, before: ok0 / n, after: ok1 / n, agreement: agree / n };
    seconds.evaluate = (performance.now() - t1) / 1000;
  }
  return { model, report };
}

function inputsOf(model: Model): InputDescription[] {
  const init = model.graph.initializers;
  return model.graph.inputs
    .filter((v) => !init.has(v.name))
    .map((v) => ({
      name: v.name,
      type: v.type.kind === "tensor" ? v.type.dtype : undefined,
      shape: v.type.kind === "tensor" ? v.type.shape?.map((d) => (typeof d === "number" ? d : d.toString())) : undefined,
    }));
}

function ownPreprocessing(src: Quantizable): { resolved: ResolvedPreprocessing; warning: string | undefined } {
  const resolved = resolvePreprocessing({ ...(src.path ? { modelPath: src.path } : {}), metadata: src.model.metadata });
  const input = inputsOf(src.model)[0];
  return { resolved, warning: input ? assumptionWarning(resolved, src.model.file, input) : undefined };
}

function imageSpec(model: Model, pre: ResolvedPreprocessing): ImageSpec {
  return imageSpecFor(inputsOf(model), pre.spec, {}, pre.fallbackSize);
}

/** The predicted process total for one run, or null (with a warning) when the analysis cannot give it. */
function predictTotal(model: Model, runtime: string, batch: number, openExternal: ExternalOpener | undefined, warnings: string[], which: string): number | null {
  try {
    const { report, inference, bindings } = analyzeModel(model, { runtime, batch, ...(openExternal ? { openExternal } : {}) });
    if (report.memory) return report.memory.total;
    // analyzeModel does not attach a memory estimate (yet): ask the runtime's profile directly.
    const s = report.settings;
    const est = findRuntime(runtime).estimate({ model, inference, bindings, settings: { batch, dtype: s.dtype, runtime, device: s.device, mode: s.mode } });
    if (est.memory.total > 0) return est.memory.total;
    warnings.push(`predicted memory of the ${which} model: the analysis gave no memory figure for runtime ${runtime}`);
  } catch (err) {
    warnings.push(`predicted memory of the ${which} model: ${(err as Error).message.split("\n")[0]}`);
  }
  return null;
}
