/**
 * Predicted vs measured training steps (mode "train" rows of ../shared/groundtruth/h200-torch2.11.json):
 * the peak of the third step over what was allocated before the first (peak_delta_3), for each model and
 * optimizer, predicted from the legacy (TorchScript) or dynamo export in ../shared/fixtures.
 * The measuring script's "sgd" is torch.optim.SGD(momentum=0.9): the "momentum" optimizer here.
 * It trains all models in one process, resnet50 first: the autograd thread's cuBLAS workspace is
 * allocated in resnet50's first step and already present (in the base) for every later row.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { estimateTraining } from "../src/memory/train/estimate.js";

export const SHARED = process.env["MEMLENS_SHARED"] ?? "/work/shared";
export const GROUND_TRUTH = join(SHARED, "groundtruth", "h200-torch2.11.json");
/** H200: compute capability 9.0. */
const H200_CC = 9;

interface TrainRun {
  model: string;
  mode: string;
  optimizer: string;
  dtype: string;
  batch: number;
  peak_delta_3?: number;
  after_forward_3?: number;
  after_backward_3?: number;
  after_step_3?: number;
  error?: string;
}

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
      const file = join(SHARED, "fixtures", `onnx-${exporter}`, `${run.model}.onnx`);
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
