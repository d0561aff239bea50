/**
 * Predicted vs measured GPU memory for every fixture with a measurement in the ground truth
 * (bench/groundtruth/h200-torch2.11.json): the runs' activation peak (peak_delta_2) and reserved peak
 * (reserved_peak_2), and the seed rows' process total (nvidia-smi) and max_memory_allocated.
 * Held out (models no rule was written from when first compared): the 8 torchvision models of bench/groundtruth's
 * GPU file (graphs in bench/fixtures/heldout) and its extra seed rows.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { analyzeModel, type AnalyzeOptions } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import type { Model } from "../src/graph/ir.js";
import { FIXTURES, H200_GROUND_TRUTH, LEGACY_FIXTURES, REPO_ROOT, type GpuRun as Run } from "./shared.js";

export const GROUND_TRUTH = H200_GROUND_TRUTH;
/** Measured by bench/gpu/run.sh (same device, versions and protocol as the shared file). */
export const HELDOUT_GROUND_TRUTH = join(REPO_ROOT, "bench", "groundtruth", "gpu-h200-torch2.11-torchvision.json.gz");
export const HELDOUT_SEED = join(REPO_ROOT, "bench", "groundtruth", "gpu-h200-torch2.11-seed.jsonl");
/** bench/gpu/run-heldout2.sh, measured after the workspace rule was rewritten: 6 new models, batches 2-64, 320x320. */
export const HELDOUT2 = join(REPO_ROOT, "bench", "groundtruth", "gpu-h200-torch2.11-heldout2.json.gz");
export const HELDOUT2_320 = join(REPO_ROOT, "bench", "groundtruth", "gpu-h200-torch2.11-heldout2-320.json.gz");
/** bench/gpu/run-h100.sh: seed processes on an H100 (its 56 fixture peaks equal the H200's to the byte). */
export const H100_SEED = join(REPO_ROOT, "bench", "groundtruth", "gpu-h100-torch2.11-seed.jsonl");
const HELDOUT_FIXTURES = join(REPO_ROOT, "bench", "fixtures", "heldout");
const MiB = 1 << 20;


interface SeedRow {
  batch: number;
  hw: number;
  cudnn_benchmark: boolean;
  module_loading: string | null;
  max_allocated: number;
  proc_after_predict: number;
}

export interface Comparison {
  /** "activationPeak", "peakReserved", "total" or "peakAllocated". */
  metric: string;
  /** What the row is: export kind, model, dtype, batch (and seq or image size). */
  model: string;
  export: string;
  dtype: string;
  batch: number;
  extra: string;
  predicted: number;
  measured: number;
  /** (predicted - measured) / measured. */
  error: number;
  /** The group the acceptance bounds apply to. */
  group: "torchvision" | "transformers" | "seed" | "heldout" | "heldout-seed" | "h100-seed" | "heldout2";
}

export function available(): boolean {
  return existsSync(GROUND_TRUTH);
}

const TRANSFORMERS = new Set(["bert-base", "gpt2"]);

type Loader = (dir: string, name: string) => Promise<Model | null>;

function loader(): Loader {
  const models = new Map<string, Model | null>();
  return async (dir, name) => {
    const file = join(dir, `${name}.onnx`);
    if (!models.has(file)) models.set(file, existsSync(file) ? (await loadModelFile(file)).model : null);
    return models.get(file)!;
  };
}

export async function compareAll(): Promise<Comparison[]> {
  const gt = JSON.parse(readFileSync(GROUND_TRUTH, "utf8")) as { runs: Run[]; seed_fresh_process: SeedRow[] };
  const load = loader();
  const out: Comparison[] = [];
  for (const r of gt.runs) {
    if (r.mode !== "inference" || r.error || (r.tag ?? "") !== "" || r.peak_delta_2 === undefined) continue;
    if (r.input && r.input[1] !== 224) continue;
    for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
      const group = TRANSFORMERS.has(r.model) ? "transformers" : "torchvision";
      out.push(...compareRun(await load(join(FIXTURES, kind), r.model), kind, r, r.peak_delta_2, r.reserved_peak_2, group));
    }
  }
  for (const s of gt.seed_fresh_process) out.push(...(await compareSeed(load, s, "seed")));
  out.push(...(await compareHeldout(load)));
  return out;
}

/** Models and settings no rule was written from (when first compared): bench/groundtruth's GPU files. */
async function compareHeldout(load: Loader): Promise<Comparison[]> {
  const out: Comparison[] = [];
  if (existsSync(HELDOUT_GROUND_TRUTH)) {
    const gt = JSON.parse(gunzipSync(readFileSync(HELDOUT_GROUND_TRUTH)).toString("utf8")) as { runs: Run[] };
    for (const r of gt.runs) {
      if (!r.heldout || r.error || r.peak_delta_3 === undefined) continue;
      for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
        out.push(...compareRun(await load(join(HELDOUT_FIXTURES, kind), r.model), kind, r, r.peak_delta_3, r.reserved_peak_3, "heldout"));
      }
    }
  }
  // The second held-out run: new models (legacy graphs) and the fixtures at 320x320.
  for (const [file, fixtures] of [[HELDOUT2, join(HELDOUT_FIXTURES, "onnx-legacy")], [HELDOUT2_320, LEGACY_FIXTURES]] as const) {
    if (!existsSync(file)) continue;
    const gt = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as { runs: Run[] };
    for (const r of gt.runs) {
      if (r.error || r.peak_delta_3 === undefined) continue;
      out.push(...compareRun(await load(fixtures, r.model), "onnx-legacy", r, r.peak_delta_3, r.reserved_peak_3, "heldout2"));
    }
  }
  for (const [file, group, device] of [[HELDOUT_SEED, "heldout-seed", "h200"], [H100_SEED, "h100-seed", "h100"]] as const) {
    if (!existsSync(file)) continue;
    const rows = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("SEED "));
    for (const l of rows) out.push(...(await compareSeed(load, JSON.parse(l.slice(5)) as SeedRow, group, device)));
  }
  return out;
}

function compareRun(model: Model | null, kind: string, r: Run, peak: number, reserved: number | undefined, group: Comparison["group"]): Comparison[] {
  if (!model) return [];
  const dtype = r.dtype === "float16" ? "fp16" : r.dtype === "bfloat16" ? "bf16" : "fp32";
  // The harness (measure_gpu.py, bench/gpu/measure.py) runs cuBLAS before it loads any model.
  const opts: AnalyzeOptions = { batch: r.batch, dtype, device: "h200", runtime: "pytorch-cuda", memory: true, cublasFirst: true };
  if (r.seq !== undefined) opts.dims = { batch: r.batch, seq: r.seq };
  if (r.input && r.input[1] !== 224 && r.input[1] !== 299) opts.inputs = { input: [r.batch, ...r.input] };
  const m = analyzeModel(model, opts).report.memory!;
  const hw = r.input?.[1];
  const extra = r.seq !== undefined ? `seq ${r.seq}` : hw ? `${hw}x${hw}` : "";
  const base = { model: r.model, export: kind.replace("onnx-", ""), dtype, batch: r.batch, extra, group };
  const out: Comparison[] = [{ ...base, metric: "activationPeak", predicted: m.activationPeak, measured: peak, error: rel(m.activationPeak, peak) }];
  if (reserved !== undefined) {
    out.push({ ...base, metric: "peakReserved", predicted: m.peakReserved, measured: reserved, error: rel(m.peakReserved, reserved) });
  }
  return out;
}

async function compareSeed(load: Loader, s: SeedRow, group: "seed" | "heldout-seed" | "h100-seed", device = "h200"): Promise<Comparison[]> {
  const out: Comparison[] = [];
  for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
    const model = await load(join(FIXTURES, kind), "mobilenet_v2");
    if (!model) continue;
    const opts: AnalyzeOptions = {
      inputs: { input: [s.batch, 3, s.hw, s.hw] },
      batch: s.batch,
      device,
      runtime: "pytorch-cuda",
      memory: true,
      cudnnBenchmark: s.cudnn_benchmark,
      cudaModuleLoading: s.module_loading?.toLowerCase() === "eager" ? "eager" : "lazy",
    };
    const m = analyzeModel(model, opts).report.memory!;
    const extra = `${s.hw}x${s.hw}${s.cudnn_benchmark ? " benchmark" : ""}${s.module_loading ? ` ${s.module_loading.toLowerCase()}` : ""}`;
    const base = { model: "mobilenet_v2", export: kind.replace("onnx-", ""), dtype: "fp32", batch: s.batch, extra, group };
    const measuredTotal = s.proc_after_predict * MiB;
    out.push({ ...base, metric: "total", predicted: m.total, measured: measuredTotal, error: rel(m.total, measuredTotal) });
    out.push({ ...base, metric: "peakAllocated", predicted: m.peakAllocated, measured: s.max_allocated, error: rel(m.peakAllocated, s.max_allocated) });
  }
  return out;
}

function rel(p: number, m: number): number {
  return (p - m) / m;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Summary {
  label: string;
  rows: number;
  medianAbs: number;
  maxAbs: number;
}

export function summarise(rows: Comparison[]): Summary[] {
  const groups: [string, (c: Comparison) => boolean][] = [
    ["activationPeak, torchvision (7 CNN/ViT x legacy/dynamo x fp32/fp16 x batch 1-128)", (c) => c.metric === "activationPeak" && c.group === "torchvision"],
    ["activationPeak, transformers (bert-base, gpt2)", (c) => c.metric === "activationPeak" && c.group === "transformers"],
    ["peakReserved, the fixture runs", (c) => c.metric === "peakReserved" && (c.group === "torchvision" || c.group === "transformers")],
    ["seed rows: total (nvidia-smi)", (c) => c.metric === "total" && c.group === "seed"],
    ["seed rows: peakAllocated (max_memory_allocated)", (c) => c.metric === "peakAllocated" && c.group === "seed"],
    ["held out: activationPeak (8 torchvision models x 2 exports x fp32/fp16 x batch 1-128)", (c) => c.metric === "activationPeak" && c.group === "heldout"],
    ["held out: peakReserved", (c) => c.metric === "peakReserved" && c.group === "heldout"],
    ["held-out seed rows: total (nvidia-smi)", (c) => c.metric === "total" && c.group === "heldout-seed"],
    ["held-out seed rows: peakAllocated", (c) => c.metric === "peakAllocated" && c.group === "heldout-seed"],
    ["second held-out run (6 new models at batch 2-64, resnet50/mobilenet_v2 at 320x320): activationPeak", (c) => c.metric === "activationPeak" && c.group === "heldout2"],
    ["second held-out run: peakReserved", (c) => c.metric === "peakReserved" && c.group === "heldout2"],
    ["H100 seed rows (--device h100): total (nvidia-smi)", (c) => c.metric === "total" && c.group === "h100-seed"],
    ["H100 seed rows: peakAllocated", (c) => c.metric === "peakAllocated" && c.group === "h100-seed"],
  ];
  return groups.map(([label, f]) => {
    const errs = rows.filter(f).map((c) => Math.abs(c.error));
    return { label, rows: errs.length, medianAbs: median(errs), maxAbs: errs.length ? Math.max(...errs) : Number.NaN };
  });
}
