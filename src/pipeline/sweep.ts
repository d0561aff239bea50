/**
 * What the HTML report and the web page draw beyond one analysis: the same analysis at other batch sizes
 * (each point a full run of the runtime profile, not a linear extrapolation) and the capacities of the
 * devices in the device table. Kept out of `analyze --json`, which pays for one analysis only.
 */
import { DEVICES } from "../memory/devices.js";
import { memoryAt, onLlamaCpp, type Axis } from "./estimate.js";
import { runtimeFor } from "./runtime-check.js";
import type { EstimateSettings } from "./settings.js";
import type { ModelSource } from "./source.js";
import { bytes } from "../units.js";
import type { BatchPoint, BatchSweep, ContextPoint, DeviceCapacity, MemoryReport, Report } from "../contract/report.js";

/** Powers of two up to this batch; past it a chart on a log axis says nothing new. */
export const MAX_SWEEP_BATCH = 1024;

export type SweepStep = { batch: number; point: BatchPoint } | { batch: number; stop: string };

/**
 * The sweep one point at a time, so that a page can draw each as it comes and stay responsive: the estimate at
 * each power of two of `axis`, for any kind of source. Stops at the first value that fails (a shape error),
 * after 2 when memory does not change with it (the model's inputs have fixed shapes), and after the first point
 * above `ceiling` (by default the largest device in the table: past it nothing fits anywhere).
 */
export function* sweep(source: ModelSource, settings: EstimateSettings, axis: Axis = "batch", ceiling = largestCapacity()): Generator<SweepStep> {
  yield* sweepSteps(memoryAt(source, settings, axis), ceiling, runtimeFor(source.kind, settings.runtime), axis);
}

/** The sweep over any analysis that gives a memory report at a value of the axis (`batch` in the steps: its value). */
export function* sweepSteps(at: (n: number) => MemoryReport | undefined, ceiling: number, runtime: string, axis: Axis = "batch"): Generator<SweepStep> {
  let first: BatchPoint | undefined;
  for (let batch = 1; batch <= MAX_SWEEP_BATCH; batch *= 2) {
    let point: BatchPoint;
    try {
      const m = at(batch);
      if (!m) {
        yield { batch, stop: `no memory estimate for runtime ${runtime}` };
        return;
      }
      point = { batch, peakAllocated: m.peakAllocated, total: m.total };
    } catch (e) {
      yield { batch, stop: (e as Error).message };
      return;
    }
    yield { batch, point };
    if (point.total > ceiling) {
      yield { batch: batch * 2, stop: `${axis} ${batch} already needs ${bytes(point.total)}, more than ${bytes(ceiling)}` };
      return;
    }
    if (!first) first = point;
    else if (batch === 2 && point.total === first.total && point.peakAllocated === first.peakAllocated) {
      yield { batch: 4, stop: axis === "batch" ? "memory does not change with the batch: the model's inputs have no batch dimension" : "memory does not change with seq" };
      return;
    }
  }
}

export function collectSweep(steps: Iterable<SweepStep>): BatchSweep {
  const sweep: BatchSweep = { points: [] };
  for (const step of steps) {
    if ("point" in step) sweep.points.push(step.point);
    else sweep.stoppedAt = { batch: step.batch, reason: step.stop };
  }
  return sweep;
}

/** GPUs of the device table with a known capacity (the CPU has none: host RAM varies). */
export function deviceCapacities(): DeviceCapacity[] {
  const out: DeviceCapacity[] = [];
  for (const d of DEVICES) if (d.capacity.value !== null) out.push({ id: d.id, name: d.name, capacity: d.capacity.value });
  return out;
}

export function largestCapacity(): number {
  return Math.max(...deviceCapacities().map((d) => d.capacity));
}

/**
 * The report with its batch sweep and device capacities, for the HTML renderers. A GGUF on llama.cpp gets its
 * memory against the context instead: the estimate at contexts from 512 tokens to the model's training context
 * (powers of two, and the training context itself).
 */
export function withCharts(report: Report, source: ModelSource, settings: EstimateSettings): Report {
  if (onLlamaCpp(source, settings)) return { ...report, memory: { ...report.memory!, contextSweep: contextSweep(report, memoryAt(source, settings, "seq")) }, devices: deviceCapacities() };
  return { ...report, batchSweep: collectSweep(sweep(source, settings)), devices: deviceCapacities() };
}

function contextSweep(report: Report, at: (ctx: number) => MemoryReport | undefined): ContextPoint[] {
  const l = (report.memory?.["llamacpp"] ?? {}) as Record<string, unknown>;
  const train = Math.max(512, Number(l["nCtxTrain"] ?? 0), Number(l["nCtx"] ?? 0));
  const point = (ctx: number): ContextPoint => {
    const m = at(ctx)!;
    return { ctx, kv: Number(m["kvCache"] ?? 0), total: m.total };
  };
  const points: ContextPoint[] = [];
  for (let ctx = 512; ctx <= train; ctx *= 2) {
    points.push(point(ctx));
    if (ctx * 2 > train && ctx !== train) points.push(point(train));
  }
  return points;
}
