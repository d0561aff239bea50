/**
 * The analysis pipeline: model -> shapes (with the user's settings bound) -> Report.
 * Pure over an already-loaded model, so the CLI, the library API and the browser page share it.
 */
import { UsageError } from "./errors.js";
import { byteSize, DTYPES, type DType } from "./graph/dtype.js";
import type { Model } from "./graph/ir.js";
import { onnxTensorValues, type ExternalOpener } from "./formats/onnx/values.js";
import { inferModel, type InferenceResult } from "./shapes/engine.js";
import { flattenBodies } from "./shapes/bodies.js";
import { dimToString, evaluate, isSym, product, symbolsOf, type Dim } from "./sym/expr.js";
import { SCHEMA, type Layer, type ModelSummary, type Report, type Settings } from "./contract/report.js";
import { findRuntime } from "./memory/runtimes.js";
import { checkRuntimeChoice } from "./memory/runtime-table.js";
import type { MemoryResult, MemorySettings } from "./memory/profile.js";
import { cpuChoice, type CpuIsa } from "./memory/cpu.js";
import { weightTotals } from "./graph/weights.js";
import { positionLimit } from "./graph/position-limit.js";

export interface AnalyzeOptions {
  batch?: number;
  /** Input shape overrides: name -> dims (numbers or symbol names). */
  inputs?: Record<string, Dim[]>;
  /** Symbol values (`seq` = 128). */
  dims?: Record<string, number>;
  /** Values of integer/bool inputs (`sr` = 16000): a value can decide shapes and which If branch runs. */
  values?: Record<string, number>;
  dtype?: string;
  runtime?: string;
  device?: string;
  mode?: string;
  optimizer?: string;
  openExternal?: ExternalOpener;
  /** Attach the runtime profile's memory estimate (`memory`, `timeline`); off for callers that only need shapes. */
  memory?: boolean;
  /** pytorch-cuda: torch.backends.cudnn.benchmark. */
  cudnnBenchmark?: boolean;
  /** pytorch-cuda: CUDA_MODULE_LOADING. */
  cudaModuleLoading?: "lazy" | "eager";
  /**
   * pytorch-cuda: the process ran cuBLAS GEMMs before it loaded the model (a warm-up, a harness like
   * bench/groundtruth/scripts/measure_gpu.py), so the cuBLAS workspace already has its own segment. Default (a fresh
   * process): the model's first GEMM allocates it inside the first forward. Only segment placement differs.
   */
  cublasFirst?: boolean;
  /** --mode train: checkpointing, LoRA, sharding across GPUs. */
  train?: import("./memory/train/report.js").TrainSettings;
  /** CPU runtimes: the instruction set to assume; the host's own when absent (src/memory/cpu.ts). */
  cpu?: CpuIsa;
  /** ort-webgpu: the adapter's buffer limits; WebGPU's defaults when absent. */
  webgpuLimits?: import("./memory/ort-webgpu/limits.js").WebGpuLimits;
}

/** The value a symbol takes when the user gave none (and not the batch): stated in a warning. */
export const DEFAULT_SYMBOL_VALUE = 128;

export function summarizeModel(model: Model): ModelSummary {
  // Initializers, Constant nodes and If/Loop/Scan bodies: weights wherever the exporter put them.
  const { parameters, bytes: weightBytes } = weightTotals(model.graph);
  return {
    file: model.file,
    format: model.format,
    producer: model.producer,
    opsets: model.opsets,
    nodes: model.graph.nodes.length,
    parameters,
    weightBytes,
  };
}

/** Decide every symbol's value: --dim first, then --batch for each input's leading symbolic dim. */
export function bindSymbols(model: Model, opts: AnalyzeOptions, warnings: string[]): {
  bindings: Record<string, number>;
  inputs: Record<string, Dim[]>;
  batch: number;
} {
  const batch = opts.batch ?? opts.dims?.["batch"] ?? 1;
  // Name-keyed tables without a prototype: an input or dimension named `__proto__` or `constructor` (names come
  // from the file) is an ordinary key, never Object.prototype's.
  const bindings: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, opts.dims ?? {});
  const inputs: Record<string, Dim[]> = Object.create(null) as Record<string, Dim[]>;
  const overrides = opts.inputs ?? {};
  const initializers = model.graph.initializers;
  for (const vi of model.graph.inputs) {
    if (initializers.has(vi.name)) continue;
    const override = Object.hasOwn(overrides, vi.name) ? overrides[vi.name] : undefined;
    const shape = override ?? (vi.type.kind === "tensor" ? vi.type.shape : undefined);
    if (!shape) continue;
    inputs[vi.name] = shape;
    const lead = shape[0];
    if (lead !== undefined && isSym(lead)) {
      for (const s of symbolsOf(lead)) if (!(s in bindings)) bindings[s] = batch;
    }
  }
  for (const name of Object.keys(opts.inputs ?? {})) {
    if (!model.graph.inputs.some((v) => v.name === name)) {
      throw new UsageError(`--input ${name}: the model has no input '${name}' (inputs: ${model.graph.inputs.map((v) => v.name).join(", ")})`);
    }
  }
  for (const shape of Object.values(inputs)) {
    for (const d of shape) {
      for (const s of symbolsOf(d)) {
        if (!(s in bindings)) {
          bindings[s] = DEFAULT_SYMBOL_VALUE;
          warnings.push(`dimension '${s}' not set: using ${DEFAULT_SYMBOL_VALUE} (set it with --dim ${dimArgument(s)}=N)`);
        }
      }
    }
  }
  return { bindings, inputs, batch };
}

/** A dimension name as a shell word for `--dim NAME=N`: quoted when it holds spaces or shell characters. */
export function dimArgument(name: string): string {
  return /^[\w.:@%+,/-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
}

export interface Analysis {
  report: Report;
  inference: InferenceResult;
  bindings: Record<string, number>;
}

export function analyzeModel(model: Model, opts: AnalyzeOptions = {}): Analysis {
  // A runtime/dtype/mode/device the runtime table does not pair is refused before any work, in one line.
  const choice = checkRuntimeChoice(opts);
  const warnings: string[] = [...model.warnings];
  const { bindings, inputs, batch } = bindSymbols(model, opts, warnings);
  const seq = bindings["seq"];
  const positions = seq !== undefined ? positionLimit(model.graph) : undefined;
  if (seq !== undefined && positions && seq > positions.positions) {
    warnings.push(`seq=${seq} is past the model's ${positions.positions} positions (${positions.table}): the model cannot run it (onnxruntime refuses the out-of-range Gather)`);
  }
  const inference = inferModel(model, {
    inputs,
    bindings,
    trustDeclared: true,
    ...(opts.values ? { values: opts.values } : {}),
    tensorValues: onnxTensorValues(opts.openExternal),
  });
  warnings.push(...inference.warnings);
  const boundsEnv: Record<string, Dim> = Object.create(null) as Record<string, Dim>;
  for (const [k, v] of inference.bounds) boundsEnv[k] = evaluate(v, bindings);
  // Body nodes follow their If/Loop/Scan, with its path: the layer table lists them under it.
  const layers: Layer[] = flattenBodies(inference, model.graph.nodes).map(({ result: r, parent, value }) => ({
    name: r.node.name,
    op: r.node.domain === "" ? r.node.opType : `${r.node.domain}.${r.node.opType}`,
    outputs: r.node.outputs.map((name) => {
      const info = value(name);
      const shape = info?.shape;
      const dtype = info?.dtype;
      const bytesDim = shape && dtype ? evaluate(product(shape), boundsEnv) : undefined;
      return {
        name,
        shape: shape ? shape.map((d) => (typeof d === "number" ? d : dimToString(d))) : null,
        dtype: dtype ? DTYPES[dtype].short : null,
        bytes: typeof bytesDim === "number" && dtype ? byteSize(dtype as DType, bytesDim) : null,
      };
    }),
    paramBytes: r.paramBytes,
    flops: (() => {
      if (r.flops === undefined) return null;
      const f = evaluate(r.flops, boundsEnv);
      return typeof f === "number" ? f : null;
    })(),
    ...(parent !== undefined ? { parent } : {}),
  }));
  const settings: Settings = {
    batch,
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [k, v.map((d) => {
        const e = evaluate(d, bindings);
        return typeof e === "number" ? e : dimToString(e);
      })]),
    ),
    ...choice,
    dims: { ...bindings },
    ...cpuSettings(opts.cpu),
  };
  const report: Report = { schema: SCHEMA, model: summarizeModel(model), settings, layers, warnings };
  if (opts.memory) {
    const result = estimateMemory(model, opts, settings, inference, bindings);
    report.memory = result.memory;
    report.timeline = result.timeline;
    warnings.push(...result.warnings);
  }
  return { report, inference, bindings };
}

/** The CPU named in every report: --cpu as given, else this machine's (generic where it cannot tell). */
function cpuSettings(cpu: CpuIsa | undefined): Pick<Settings, "cpu" | "cpuFrom"> {
  return cpuChoice(cpu);
}

function memorySettings(opts: AnalyzeOptions, settings: Settings): MemorySettings {
  const m: MemorySettings = { batch: settings.batch, dtype: settings.dtype, runtime: settings.runtime, device: settings.device, mode: settings.mode };
  if (opts.optimizer !== undefined) m.optimizer = opts.optimizer;
  if (opts.cudnnBenchmark !== undefined) m.cudnnBenchmark = opts.cudnnBenchmark;
  if (opts.cudaModuleLoading !== undefined) m.cudaModuleLoading = opts.cudaModuleLoading;
  if (opts.cublasFirst !== undefined) m.cublasFirst = opts.cublasFirst;
  if (opts.train !== undefined) m.train = opts.train;
  if (settings.cpu !== undefined) m.cpu = settings.cpu as CpuIsa;
  if (opts.webgpuLimits !== undefined) m.webgpuLimits = opts.webgpuLimits;
  return m;
}

/** The runtime's estimate at the chosen settings (its profile also splits the total into fixed and per-sample parts). */
function estimateMemory(model: Model, opts: AnalyzeOptions, settings: Settings, inference: InferenceResult, bindings: Record<string, number>): MemoryResult {
  const profile = findRuntime(settings.runtime);
  return profile.estimate({ model, inference, bindings, settings: memorySettings(opts, settings) });
}
