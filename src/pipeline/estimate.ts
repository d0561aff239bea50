/**
 * The one entry point: any ModelSource at one EstimateSettings -> the Report every renderer reads, and the memory
 * at one value of a swept axis (sweep.ts, fit.ts). Each kind of model has its own pipeline module (onnx.ts,
 * architecture.ts, llamacpp.ts); adding a kind is one entry here plus its module. The runtime table
 * (memory/runtimes.ts) says which runtimes take which kind; a GGUF runs on llama.cpp unless another is chosen.
 */
import type { MemoryReport, Report } from "../contract/report.js";
import { architecturePipeline } from "./architecture.js";
import type { Axis } from "./kind.js";
import { llamaCppPipeline } from "./llamacpp.js";
import { onnxPipeline } from "./onnx.js";
import { runtimeFor } from "./runtime-check.js";
import type { EstimateSettings } from "./settings.js";
import { eagerSource, type GgufSource, type ModelSource } from "./source.js";

export type { Axis } from "./kind.js";

/** The GGUF when it runs on llama.cpp (its default) at these settings; undefined for an eager program or another kind. */
export function onLlamaCpp(source: ModelSource, settings: EstimateSettings): GgufSource | undefined {
  return source.kind === "gguf" && runtimeFor("gguf", settings.runtime) === "llama.cpp" ? source : undefined;
}

export function estimate(source: ModelSource, settings: EstimateSettings): Report {
  if (source.kind === "onnx") return onnxPipeline.estimate(source, settings);
  const gguf = onLlamaCpp(source, settings);
  return gguf ? llamaCppPipeline.estimate(gguf, settings) : architecturePipeline.estimate(eagerSource(source), settings);
}

export function memoryAt(source: ModelSource, settings: EstimateSettings, axis: Axis, capacity?: number): (n: number) => MemoryReport | undefined {
  if (source.kind === "onnx") return onnxPipeline.memoryAt(source, settings, axis, capacity);
  const gguf = onLlamaCpp(source, settings);
  return gguf ? llamaCppPipeline.memoryAt(gguf, settings, axis, capacity) : architecturePipeline.memoryAt(eagerSource(source), settings, axis, capacity);
}
