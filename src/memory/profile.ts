/**
 * A runtime profile turns a shape-inferred graph into the memory a runtime will hold. Each runtime
 * (pytorch-cuda, ort-cpu, ...) composes the pure pieces (liveness, planners, allocator simulations) its own
 * way; src/memory/runtimes.ts is the only list of them.
 */
import type { Model } from "../graph/ir.js";
import type { InferenceResult } from "../shapes/engine.js";
import type { MemoryReport, TimelinePoint } from "../contract/report.js";
import type { CpuIsa } from "./cpu.js";
import type { RuntimeSpec } from "./runtime-table.js";

export interface MemorySettings {
  batch: number;
  dtype: string;
  runtime: string;
  device: string;
  mode: string;
  optimizer?: string;
  /** pytorch-cuda: torch.backends.cudnn.benchmark. */
  cudnnBenchmark?: boolean;
  /** pytorch-cuda: CUDA_MODULE_LOADING (lazy is PyTorch's default). */
  cudaModuleLoading?: "lazy" | "eager";
  /**
   * pytorch-cuda: the process ran cuBLAS GEMMs before it loaded the model (a warm-up, a harness like
   * bench/groundtruth/scripts/measure_gpu.py), so the cuBLAS workspace already has its own segment. Default (a fresh
   * process): the model's first GEMM allocates it inside the first forward. Only segment placement differs.
   */
  cublasFirst?: boolean;
  /** --mode train: checkpointing, LoRA, sharding across GPUs (src/memory/train/report.ts). */
  train?: import("./train/report.js").TrainSettings;
  /** CPU runtimes: the instruction set the kernels dispatch to (--cpu; the host's own by default). */
  cpu?: CpuIsa;
  /** ort-webgpu: the adapter's buffer limits (--webgpu-limits FILE|preset; WebGPU's defaults when absent). */
  webgpuLimits?: import("./ort-webgpu/limits.js").WebGpuLimits;
}

export interface MemoryInput {
  model: Model;
  inference: InferenceResult;
  /** Symbol values (batch, seq) the inference was run with. */
  bindings: Record<string, number>;
  settings: MemorySettings;
}

export interface MemoryResult {
  memory: MemoryReport;
  timeline: TimelinePoint[];
  warnings: string[];
}

/** A runtime's row of the runtime table (what it accepts) and its estimator. */
export interface RuntimeProfile extends RuntimeSpec {
  estimate(input: MemoryInput): MemoryResult;
}
