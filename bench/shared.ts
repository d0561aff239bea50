/**
 * Where the test and benchmark data is: in the repository, under bench/ (fixtures/ and groundtruth/, each with a
 * README of where every file comes from). Nothing is read from outside the repository, so `npm test` passes in a
 * clone with nothing beside it. Resolved from this file's place (dist/bench/shared.js), so tests and benchmarks
 * find it whatever the working directory.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** bench/: `fixtures/` (model graphs) and `groundtruth/` (measurements), laid out as the project's shared data was. */
export const DATA = join(REPO_ROOT, "bench");
export const FIXTURES = join(DATA, "fixtures");
export const GROUNDTRUTH = join(DATA, "groundtruth");
export const LEGACY_FIXTURES = join(FIXTURES, "onnx-legacy");
export const DYNAMO_FIXTURES = join(FIXTURES, "onnx-dynamo");
/** The H200 measurements of the fixture models (bench/groundtruth/README.md). */
export const H200_GROUND_TRUTH = join(GROUNDTRUTH, "h200-torch2.11.json");
/** @deprecated the same folder as DATA (the repository's copy of what was ../shared); use DATA, FIXTURES or GROUNDTRUTH. */
export const SHARED = DATA;

/**
 * One record of `runs[]` in the GPU ground truth: bench/groundtruth/h200-torch2.11.json (scripts/measure_gpu.py) and bench/gpu/measure.py's
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
