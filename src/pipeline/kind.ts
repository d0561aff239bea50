/** What the pipeline needs of each kind of model: its estimate, and its memory at one value of a swept axis. */
import type { MemoryReport, Report } from "../contract/report.js";
import type { EstimateSettings } from "./settings.js";

/** What sweeps and fit vary: the batch, or the sequence length (`seq`). */
export type Axis = "batch" | "seq";

export interface KindPipeline<S> {
  estimate(source: S, settings: EstimateSettings): Report;
  /**
   * The memory fields alone at one value `n` of the axis, for sweeps and fit's search. With `capacity`, a simulation
   * may stop as out of memory past it (memory/torch/caching-allocator.ts OutOfMemory). Undefined: the runtime gives
   * no memory estimate.
   */
  memoryAt(source: S, settings: EstimateSettings, axis: Axis, capacity?: number): (n: number) => MemoryReport | undefined;
}

/** The settings with the batch or the sequence length set to `n`. */
export function withAxis(settings: EstimateSettings, axis: Axis, n: number): EstimateSettings {
  return axis === "batch" ? { ...settings, batch: n } : { ...settings, dims: { ...(settings.dims ?? {}), seq: n } };
}
