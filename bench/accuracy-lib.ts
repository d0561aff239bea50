/**
 * Predicted vs measured GPU memory for every fixture with a measurement in the ground truth
 * (../shared/groundtruth/h200-torch2.11.json): the runs' activation peak (peak_delta_2) and reserved peak
 * (reserved_peak_2), and the seed rows' process total (nvidia-smi) and max_memory_allocated.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel, type AnalyzeOptions } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import type { Model } from "../src/graph/ir.js";
import { SHARED } from "./shared.js";

export { SHARED };
export const GROUND_TRUTH = join(SHARED, "groundtruth", "h200-torch2.11.json");
const MiB = 1 << 20;

interface Run {
  model: string;
  mode: string;
  dtype: string;
  batch: number;
  seq?: number;
  input?: number[];
  tag?: string;
  peak_delta_2?: number;
  reserved_peak_2?: number;
  error?: string;
}

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
  /** The group the acceptance bounds apply to: "torchvision", "transformers" or "seed". */
  group: "torchvision" | "transformers" | "seed";
}

export function available(): boolean {
  return existsSync(GROUND_TRUTH);
}

const TRANSFORMERS = new Set(["bert-base", "gpt2"]);

export async function compareAll(): Promise<Comparison[]> {
  const gt = JSON.parse(readFileSync(GROUND_TRUTH, "utf8")) as { runs: Run[]; seed_fresh_process: SeedRow[] };
  const models = new Map<string, Model | null>();
  const load = async (kind: string, name: string): Promise<Model | null> => {
    const file = join(SHARED, "fixtures", kind, `${name}.onnx`);
    if (!models.has(file)) models.set(file, existsSync(file) ? (await loadModelFile(file)).model : null);
    return models.get(file)!;
  };
  const out: Comparison[] = [];
  for (const r of gt.runs) {
    if (r.mode !== "inference" || r.error || (r.tag ?? "") !== "" || r.peak_delta_2 === undefined) continue;
    if (r.input && r.input[1] !== 224) continue;
    for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
      const model = await load(kind, r.model);
      if (!model) continue;
      const dtype = r.dtype === "float16" ? "fp16" : r.dtype === "bfloat16" ? "bf16" : "fp32";
      const opts: AnalyzeOptions = { batch: r.batch, dtype, device: "h200", runtime: "pytorch-cuda", memory: true };
      if (r.seq !== undefined) opts.dims = { batch: r.batch, seq: r.seq };
      const m = analyzeModel(model, opts).report.memory!;
      const base = {
        model: r.model,
        export: kind.replace("onnx-", ""),
        dtype,
        batch: r.batch,
        extra: r.seq !== undefined ? `seq ${r.seq}` : "224x224",
        group: TRANSFORMERS.has(r.model) ? ("transformers" as const) : ("torchvision" as const),
      };
      out.push({ ...base, metric: "activationPeak", predicted: m.activationPeak, measured: r.peak_delta_2, error: rel(m.activationPeak, r.peak_delta_2) });
      if (r.reserved_peak_2 !== undefined) {
        out.push({ ...base, metric: "peakReserved", predicted: m.peakReserved, measured: r.reserved_peak_2, error: rel(m.peakReserved, r.reserved_peak_2) });
      }
    }
  }
  for (const s of gt.seed_fresh_process) {
    for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
      const model = await load(kind, "mobilenet_v2");
      if (!model) continue;
      const opts: AnalyzeOptions = {
        inputs: { input: [s.batch, 3, s.hw, s.hw] },
        batch: s.batch,
        device: "h200",
        runtime: "pytorch-cuda",
        memory: true,
        cudnnBenchmark: s.cudnn_benchmark,
        cudaModuleLoading: s.module_loading?.toLowerCase() === "eager" ? "eager" : "lazy",
      };
      const m = analyzeModel(model, opts).report.memory!;
      const extra = `${s.hw}x${s.hw}${s.cudnn_benchmark ? " benchmark" : ""}${s.module_loading ? ` ${s.module_loading.toLowerCase()}` : ""}`;
      const base = { model: "mobilenet_v2", export: kind.replace("onnx-", ""), dtype: "fp32", batch: s.batch, extra, group: "seed" as const };
      const measuredTotal = s.proc_after_predict * MiB;
      out.push({ ...base, metric: "total", predicted: m.total, measured: measuredTotal, error: rel(m.total, measuredTotal) });
      out.push({ ...base, metric: "peakAllocated", predicted: m.peakAllocated, measured: s.max_allocated, error: rel(m.peakAllocated, s.max_allocated) });
    }
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
    ["peakReserved, all runs", (c) => c.metric === "peakReserved"],
    ["seed rows: total (nvidia-smi)", (c) => c.metric === "total"],
    ["seed rows: peakAllocated (max_memory_allocated)", (c) => c.metric === "peakAllocated"],
  ];
  return groups.map(([label, f]) => {
    const errs = rows.filter(f).map((c) => Math.abs(c.error));
    return { label, rows: errs.length, medianAbs: median(errs), maxAbs: errs.length ? Math.max(...errs) : Number.NaN };
  });
}
