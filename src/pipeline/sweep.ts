/**
 * What the HTML report and the web page draw beyond one analysis: the same analysis at other batch sizes
 * (each point a full run of the runtime profile, not a linear extrapolation) and the capacities of the
 * devices in the device table. Kept out of `analyze --json`, which pays for one analysis only.
 */
import { analyzeModel, type AnalyzeOptions } from "../analyze.js";
import type { Model } from "../graph/ir.js";
import { estimateLlm, type LlmSettings } from "../llm/estimate.js";
import type { ArchSpec } from "../llm/arch.js";
import { DEVICES } from "../memory/devices.js";
import { bytes } from "../units.js";
import type { BatchPoint, BatchSweep, DeviceCapacity, MemoryReport, Report } from "../contract/report.js";

/** Powers of two up to this batch; past it a chart on a log axis says nothing new. */
export const MAX_SWEEP_BATCH = 1024;

export type SweepStep = { batch: number; point: BatchPoint } | { batch: number; stop: string };

/**
 * The sweep one point at a time, so that a page can draw each as it comes and stay responsive.
 * Stops at the first batch that fails (a shape error), after batch 2 when memory does not change with the
 * batch (the model's inputs have fixed shapes), and after the first point above `ceiling` (by default the
 * largest device in the table: past it nothing fits anywhere).
 */
export function* batchSweepSteps(model: Model, opts: AnalyzeOptions, ceiling = largestCapacity()): Generator<SweepStep> {
  yield* sweepSteps((batch) => analyzeModel(model, { ...opts, batch, memory: true }).report.memory, ceiling, opts.runtime ?? "pytorch-cuda");
}

/** The sweep for an architecture-only LLM (config.json, safetensors): the eager program at each batch. */
export function* llmSweepSteps(arch: ArchSpec, settings: LlmSettings, ceiling = largestCapacity()): Generator<SweepStep> {
  yield* sweepSteps((batch) => estimateLlm(arch, { ...settings, batch }).memory, ceiling, "pytorch-cuda");
}

/** The same sweep over any analysis that gives a memory report for a batch (ONNX graphs, LLM architectures). */
export function* sweepSteps(at: (batch: number) => MemoryReport | undefined, ceiling: number, runtime: string): Generator<SweepStep> {
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
      yield { batch: batch * 2, stop: `batch ${batch} already needs ${bytes(point.total)}, more than ${bytes(ceiling)}` };
      return;
    }
    if (!first) first = point;
    else if (batch === 2 && point.total === first.total && point.peakAllocated === first.peakAllocated) {
      yield { batch: 4, stop: "memory does not change with the batch: the model's inputs have no batch dimension" };
      return;
    }
  }
}

export function batchSweep(model: Model, opts: AnalyzeOptions, ceiling?: number): BatchSweep {
  return collectSweep(batchSweepSteps(model, opts, ceiling));
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

/** The report with its batch sweep and device capacities, for the HTML renderers. */
export function withCharts(report: Report, model: Model, opts: AnalyzeOptions): Report {
  return { ...report, batchSweep: batchSweep(model, opts), devices: deviceCapacities() };
}

/** The same for an LLM report (llmReport): `analyze config.json --html`. */
export function withLlmCharts(report: Report, arch: ArchSpec, settings: LlmSettings): Report {
  return { ...report, batchSweep: collectSweep(llmSweepSteps(arch, settings)), devices: deviceCapacities() };
}
