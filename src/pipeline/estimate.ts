/**
 * The one entry point: any ModelSource at one EstimateSettings -> the Report every renderer reads, and the memory
 * at one value of a swept axis (sweep.ts, fit.ts). Each kind of model has its own pipeline module (onnx.ts,
 * architecture.ts); adding a kind is one entry here plus its module. The runtime table (memory/runtimes.ts) says
 * which runtimes take which kind.
 */
import type { MemoryReport, Report } from "../contract/report.js";
import { architecturePipeline } from "./architecture.js";
import type { Axis } from "./kind.js";
import { onnxPipeline } from "./onnx.js";
import type { EstimateSettings } from "./settings.js";
import type { ModelSource } from "./source.js";

export type { Axis } from "./kind.js";

export function estimate(source: ModelSource, settings: EstimateSettings): Report {
  return source.kind === "onnx" ? onnxPipeline.estimate(source, settings) : architecturePipeline.estimate(source, settings);
}

export function memoryAt(source: ModelSource, settings: EstimateSettings, axis: Axis, capacity?: number): (n: number) => MemoryReport | undefined {
  return source.kind === "onnx" ? onnxPipeline.memoryAt(source, settings, axis, capacity) : architecturePipeline.memoryAt(source, settings, axis, capacity);
}
