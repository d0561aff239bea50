/**
 * The pipeline for a GGUF file on llama.cpp (the default runtime for GGUF): the header alone (weights never read)
 * through memory/llamacpp, every buffer llama.cpp allocates, as the one Report. Sweeps vary the context (`seq`) or
 * the parallel sequences (`batch`).
 */
import type { Report } from "../contract/report.js";
import { llamaCppReport } from "../memory/llamacpp/report.js";
import type { KindPipeline } from "./kind.js";
import { runtimeFor } from "./runtime-check.js";
import { llamaCppSettingsOf, type EstimateSettings, type LlamaCppChoice } from "./settings.js";
import type { GgufSource } from "./source.js";

/**
 * The report, the settings it was made at (fit changes only what the user left unset) and what those settings
 * left to defaults (also at the head of the report's warnings).
 */
export function llamaCppEstimate(source: GgufSource, settings: EstimateSettings): { report: Report; choice: LlamaCppChoice; warnings: string[] } {
  runtimeFor("gguf", settings.runtime);
  const warnings: string[] = [];
  const choice = llamaCppSettingsOf(settings, warnings);
  const input = { file: source.file, gguf: source.header, fileBytes: source.fileBytes, settings: choice.settings, device: choice.device, cpuFrom: choice.cpuFrom, warnings: [...warnings] };
  return { report: llamaCppReport(input).report, choice, warnings };
}

export const llamaCppPipeline: KindPipeline<GgufSource> = {
  estimate: (source, settings) => llamaCppEstimate(source, settings).report,
  memoryAt(source, settings, axis) {
    runtimeFor("gguf", settings.runtime);
    const flags = settings.llamacpp ?? {};
    return (n) => llamaCppEstimate(source, { ...settings, llamacpp: axis === "seq" ? { ...flags, ctx: n } : { ...flags, parallel: n } }).report.memory;
  },
};
