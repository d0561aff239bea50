/**
 * Predicted vs measured training steps (mode "train" rows of bench/groundtruth/h200-torch2.11.json):
 * the peak of the third step over what was allocated before the first (peak_delta_3), for each model and
 * optimizer, predicted from the legacy (TorchScript) or dynamo export in bench/fixtures.
 * The measuring script's "sgd" is torch.optim.SGD(momentum=0.9): the "momentum" optimizer here.
 * It trains all models in one process, resnet50 first: the autograd thread's cuBLAS workspace is
 * allocated in resnet50's first step and already present (in the base) for every later row.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { estimateTraining } from "../src/memory/train/estimate.js";
import { DYNAMO_FIXTURES, FIXTURES, H200_GROUND_TRUTH, REPO_ROOT, type GpuRun } from "./shared.js";

type TrainRun = GpuRun & { optimizer: string };

export const GROUND_TRUTH = H200_GROUND_TRUTH;
/** H200: compute capability 9.0. */
const H200_CC = 9;


export interface TrainRow {
  model: string;
  exporter: "legacy" | "dynamo";
  optimizer: string;
  batch: number;
  measured: number;
  predicted: number;
  /** (predicted - measured) / measured. */
  error: number;
  afterForward: { measured: number; predicted: number };
  afterStep: { measured: number; predicted: number };
}

export function trainRuns(): TrainRun[] {
  const gt = JSON.parse(readFileSync(GROUND_TRUTH, "utf8")) as { runs: TrainRun[] };
  return gt.runs.filter((r) => r.mode === "train" && r.error === undefined && r.peak_delta_3 !== undefined);
}

export async function trainRows(exporters: ("legacy" | "dynamo")[] = ["legacy", "dynamo"]): Promise<TrainRow[]> {
  const rows: TrainRow[] = [];
  const runs = trainRuns();
  for (const exporter of exporters) {
    for (const [k, run] of runs.entries()) {
      const file = join(FIXTURES, `onnx-${exporter}`, `${run.model}.onnx`);
      if (!existsSync(file)) continue;
      const { model } = await loadModelFile(file);
      const a = analyzeModel(model, { batch: run.batch });
      const e = estimateTraining(model, a.inference, {
        optimizer: run.optimizer === "sgd" ? "momentum" : run.optimizer,
        batch: run.batch,
        computeCapability: H200_CC,
        backwardCublasAllocated: k > 0,
      });
      const measured = run.peak_delta_3!;
      rows.push({
        model: run.model,
        exporter,
        optimizer: run.optimizer,
        batch: run.batch,
        measured,
        predicted: e.sim.peakDelta,
        error: (e.sim.peakDelta - measured) / measured,
        afterForward: { measured: run.after_forward_3 ?? 0, predicted: e.sim.afterForward },
        afterStep: { measured: run.after_step_3 ?? 0, predicted: e.sim.afterStep },
      });
    }
  }
  return rows;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface TraceComparison {
  /** Peak allocated over the step's start, from the measured trace and from the simulation. */
  measuredPeak: number;
  predictedPeak: number;
  /** Position of the peak as a fraction of the step's allocations (the backward starts near 0.3). */
  measuredPeakAt: number;
  predictedPeakAt: number;
  /** Allocations of at least 1 MiB, and the longest common subsequence of their (512-rounded) sizes. */
  measuredLarge: number;
  predictedLarge: number;
  commonLarge: number;
  /** Allocation counts per activation size (rounded bytes -> [measured, predicted]) for sizes seen 10+ times. */
  bySize: Map<number, [number, number]>;
}

const round512 = (b: number): number => Math.ceil(b / 512) * 512;

/**
 * The resnet50 batch-32 Adam training step (third step) of the ground truth's allocator trace against the
 * simulated step's allocations and frees, from the given export.
 */
export async function resnet50Trace(exporter: "legacy" | "dynamo" = "dynamo"): Promise<TraceComparison> {
  const gt = JSON.parse(readFileSync(GROUND_TRUTH, "utf8")) as { traces: Record<string, { events: [string, number, number][] }> };
  const trace = gt.traces["resnet50_b32_float32_train_adam"]!.events;
  const { model } = await loadModelFile(join(FIXTURES, `onnx-${exporter}`, "resnet50.onnx"));
  const a = analyzeModel(model, { batch: 32 });
  const e = estimateTraining(model, a.inference, { batch: 32, computeCapability: H200_CC, optimizer: "adam" });
  const walk = (events: ["alloc" | "free", number][]): { peak: number; at: number; sizes: number[] } => {
    let cur = 0;
    let peak = 0;
    let at = 0;
    const sizes: number[] = [];
    for (const [k, b] of events) {
      if (k === "alloc") {
        cur += round512(b);
        sizes.push(round512(b));
      } else cur -= round512(b);
      if (cur > peak) {
        peak = cur;
        at = sizes.length;
      }
    }
    return { peak, at: at / Math.max(1, sizes.length), sizes };
  };
  const measured = walk(trace.filter(([k]) => k === "alloc" || k === "free_completed").map(([k, , b]) => [k === "alloc" ? "alloc" : "free", b]));
  const predicted = walk(e.sim.events);
  const large = (xs: number[]): number[] => xs.filter((b) => b >= 1 << 20);
  const m = large(measured.sizes);
  const p = large(predicted.sizes);
  let prev = new Int32Array(m.length + 1);
  for (let i = 1; i <= p.length; i++) {
    const row = new Int32Array(m.length + 1);
    for (let j = 1; j <= m.length; j++) row[j] = p[i - 1] === m[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  const count = (xs: number[]): Map<number, number> => {
    const c = new Map<number, number>();
    for (const x of xs) c.set(x, (c.get(x) ?? 0) + 1);
    return c;
  };
  const cm = count(m);
  const cp = count(p);
  const bySize = new Map<number, [number, number]>();
  for (const [size, n] of cm) if (n >= 10 && (cp.get(size) ?? 0) >= 10) bySize.set(size, [n, cp.get(size) ?? 0]);
  return {
    measuredPeak: measured.peak,
    predictedPeak: predicted.peak,
    measuredPeakAt: measured.at,
    predictedPeakAt: predicted.at,
    measuredLarge: m.length,
    predictedLarge: p.length,
    commonLarge: prev[m.length]!,
    bySize,
  };
}

/** A row of bench/measure-train.py: a training variant the shared ground truth has no measurement of. */
type VariantRun = Pick<GpuRun, "model" | "batch" | "peak_delta_3" | "after_forward_3" | "after_backward_3" | "after_step_3" | "error"> & {
  variant: string;
  optimizer: string;
};

export interface VariantRow {
  file: string;
  model: string;
  variant: string;
  optimizer: string;
  batch: number;
  measured: number;
  predicted: number;
  error: number;
  /** Allocated after each phase of the third step over the base, measured and predicted: where an error arises. */
  phases: { forward: [number, number]; backward: [number, number]; step: [number, number] };
}

/** memlens options for a measure-train.py variant: amp_bf16, checkpointing, loraN, plain. */
export function variantOptions(variant: string): { dtype?: string; checkpointing?: boolean; loraRank?: number } {
  if (variant === "amp_bf16") return { dtype: "bf16" };
  if (variant === "checkpointing") return { checkpointing: true };
  const lora = /^lora(\d+)$/.exec(variant);
  if (lora) return { loraRank: Number(lora[1]) };
  if (variant === "plain") return {};
  throw new Error(`measure-train.py variant '${variant}' unknown`);
}

/**
 * Every bench/groundtruth/train-*.json (written by bench/measure-train.py), predicted from the dynamo exports.
 * Both cuBLAS workspaces are in that script's base (it warms them up first). Like with like: its
 * checkpointing wraps each ResNet bottleneck / ViT encoder layer, the blocks memlens picks (checkpoint.ts);
 * its LoRA wraps every nn.Linear but nn.MultiheadAttention's projections, memlens's targets (params.ts);
 * its "sgd" is plain SGD, memlens's "sgd".
 */
export async function variantRows(dir = join(REPO_ROOT, "bench", "groundtruth")): Promise<VariantRow[]> {
  if (!existsSync(dir)) return [];
  const rows: VariantRow[] = [];
  for (const file of readdirSync(dir).filter((f) => /^train-.*\.json$/.test(f)).sort()) {
    const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as { runs: VariantRun[] };
    for (const run of data.runs) {
      if (run.error !== undefined || run.peak_delta_3 === undefined) continue;
      const fixture = join(DYNAMO_FIXTURES, `${run.model}.onnx`);
      if (!existsSync(fixture)) continue;
      const { model } = await loadModelFile(fixture);
      const a = analyzeModel(model, { batch: run.batch });
      const e = estimateTraining(model, a.inference, {
        optimizer: run.optimizer,
        batch: run.batch,
        computeCapability: H200_CC,
        backwardCublasAllocated: true,
        ...variantOptions(run.variant),
      });
      const measured = run.peak_delta_3;
      const phases = {
        forward: [run.after_forward_3 ?? Number.NaN, e.sim.afterForward] as [number, number],
        backward: [run.after_backward_3 ?? Number.NaN, e.sim.afterBackward] as [number, number],
        step: [run.after_step_3 ?? Number.NaN, e.sim.afterStep] as [number, number],
      };
      rows.push({ file, model: run.model, variant: run.variant, optimizer: run.optimizer, batch: run.batch, measured, predicted: e.sim.peakDelta, error: (e.sim.peakDelta - measured) / measured, phases });
    }
  }
  return rows;
}
