/**
 * The Report: one object that every renderer (terminal table, JSON, HTML) draws. Renderers never
 * recompute; everything they show is here. Its JSON form is the `memlens/analysis@1` contract.
 */
export const SCHEMA = "memlens/analysis@1";

export interface ModelSummary {
  file: string;
  format: string;
  producer: string;
  opsets: Record<string, number>;
  nodes: number;
  parameters: number;
  weightBytes: number;
}

export interface Settings {
  batch: number;
  inputs: Record<string, (number | string)[]>;
  dtype: string;
  runtime: string;
  device: string;
  mode: string;
  /** Values given to symbols (`batch`, `seq`). */
  dims?: Record<string, number>;
  /** The CPU instruction set the estimate assumed (src/memory/cpu.ts): `--cpu`, or this machine's. */
  cpu?: string;
  /** How the report names that CPU: "AMD EPYC (this machine)" or "--cpu". */
  cpuFrom?: string;
}

export interface LayerOutput {
  name: string;
  /** Numbers when known; a string for a dim that stays symbolic (a data-dependent count). */
  shape: (number | string)[] | null;
  dtype: string | null;
  /** Bytes, using upper bounds for data-dependent dims; null when the shape is unknown. */
  bytes: number | null;
}

export interface Layer {
  name: string;
  op: string;
  outputs: LayerOutput[];
  paramBytes: number;
  flops: number | null;
  /** If/Loop/Scan body nodes: the enclosing node and graph attribute (`If_0/then_branch`). */
  parent?: string;
}

export interface MemoryReport {
  weights: number;
  inputs: number;
  outputs: number;
  activationPeak: number;
  workspace: number;
  peakAllocated: number;
  peakReserved: number;
  runtimeOverhead: number;
  total: number;
  peakAt: { layer: string; live: string[] };
  perBatch: { fixed: number; perSample: number } | { formula: string };
  afterRun1?: number;
  afterRun2?: number;
  [extra: string]: unknown;
}

export interface TimelinePoint {
  layer: string;
  liveBytes: number;
}

/** The same analysis at another batch size (the batch-vs-memory chart); every field from its own run. */
export interface BatchPoint {
  batch: number;
  peakAllocated: number;
  total: number;
}

export interface BatchSweep {
  points: BatchPoint[];
  /** The first batch that was not analysed, and why (out of memory on the device, a shape error). */
  stoppedAt?: { batch: number; reason: string };
}

/** A device's memory, for drawing "what fits" lines. */
export interface DeviceCapacity {
  id: string;
  name: string;
  capacity: number;
}

export interface Report {
  schema: typeof SCHEMA;
  model: ModelSummary;
  settings: Settings;
  layers: Layer[];
  memory?: MemoryReport;
  timeline?: TimelinePoint[];
  warnings: string[];
  /** Filled only for the HTML report and the web page (src/pipeline/sweep.ts), not by `analyze --json`. */
  batchSweep?: BatchSweep;
  devices?: DeviceCapacity[];
  /** Filled only for the web page: onnxruntime-web's wasm heap and WebGPU buffers at these settings. */
  browser?: BrowserCheck;
}

/** An adapter's buffer limits (GPUSupportedLimits), with where the numbers come from. */
export interface WebGpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  source: string;
}

/** "Runs in the browser?" (memory/browser.ts): the wasm heap against its limit, every GPU buffer against the adapter's. */
export interface BrowserCheck {
  /** needed: the highest heap top malloc asks for (past the limit, the Memory cannot grow to it). */
  wasm: { afterLoad: number; afterRun1: number; afterRun2: number; needed: number; limit: { name: string; bytes: number; fits: boolean; overBy: number } };
  webgpu: { limits: WebGpuLimits; largestBuffer: { name: string; bytes: number }; fits: boolean; fix: string };
}

/**
 * One buffer llama.cpp allocates (memory.buffers of a llama.cpp report, issue 16's JSON contract): the device,
 * what it holds, llama.cpp's buffer type name (CPU_Mapped, CPU, CPU_REPACK, AMX, CUDA0) and its bytes;
 * `unmeasured` where no measurement of that backend backs the number (CUDA).
 */
export interface LlamaCppBuffer {
  device: string;
  kind: "model" | "kv" | "output" | "compute";
  buffer: string;
  bytes: number;
  unmeasured?: true;
}

/** One point of llama.cpp's context sweep (memory.contextSweep): the KV cache and the total at `ctx` tokens. */
export interface ContextPoint {
  ctx: number;
  kv: number;
  total: number;
}
