/** The pipeline for an ONNX graph: shape inference and the chosen runtime profile (analyze.ts). */
import { analyzeModel, type AnalyzeOptions } from "../analyze.js";
import { withAxis, type KindPipeline } from "./kind.js";
import { runtimeFor } from "./runtime-check.js";
import { analyzeOptionsOf, type EstimateSettings } from "./settings.js";
import type { OnnxSource } from "./source.js";

function options(source: OnnxSource, settings: EstimateSettings): AnalyzeOptions {
  return { ...analyzeOptionsOf(settings), ...(source.openExternal ? { openExternal: source.openExternal } : {}), memory: true };
}

export const onnxPipeline: KindPipeline<OnnxSource> = {
  estimate(source, settings) {
    runtimeFor("onnx", settings.runtime);
    const report = analyzeModel(source.model, options(source, settings)).report;
    report.warnings.unshift(...source.warnings);
    return report;
  },
  memoryAt(source, settings, axis) {
    runtimeFor("onnx", settings.runtime);
    return (n) => analyzeModel(source.model, options(source, withAxis(settings, axis, n))).report.memory;
  },
};
