/**
 * Where ../shared is: beside the repository (CI lays a copy there), or MEMLENS_SHARED. Resolved from this
 * file's place (dist/bench/shared.js), so tests and benchmarks find it whatever the working directory.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHARED = process.env["MEMLENS_SHARED"] ?? join(REPO_ROOT, "..", "shared");
export const LEGACY_FIXTURES = join(SHARED, "fixtures", "onnx-legacy");
export const DYNAMO_FIXTURES = join(SHARED, "fixtures", "onnx-dynamo");

/**
 * One record of `runs[]` in the GPU ground truth: ../shared/groundtruth/measure_gpu.py's file and bench/gpu/measure.py's
 * (same protocol; the latter reads forward 3, its one without convolution hooks). Fields a run does not have are absent.
 */
export interface GpuRun {
  model: string;
  mode: string;
  dtype: string;
  batch: number;
  seq?: number;
  input?: number[];
  tag?: string;
  optimizer?: string;
  heldout?: boolean;
  weights_alloc?: number;
  peak_delta_2?: number;
  reserved_peak_2?: number;
  peak_delta_3?: number;
  reserved_peak_3?: number;
  after_forward_3?: number;
  after_backward_3?: number;
  after_step_3?: number;
  error?: string;
}
