/**
 * The pipeline for a transformer architecture (config.json, safetensors headers, or a GGUF's metadata on
 * --runtime pytorch-cuda: pipeline/source.ts eagerSource): the architecture's eager program through the caching allocator (llm/estimate.ts, llm/train.ts). It never loads the
 * ONNX shape engine.
 */
import type { Report } from "../contract/report.js";
import { UsageError } from "../errors.js";
import { estimateLlm, llmReport } from "../llm/estimate.js";
import { llmTrainMemory, llmTrainReport } from "../llm/train.js";
import { withAxis, type KindPipeline } from "./kind.js";
import { runtimeFor } from "./runtime-check.js";
import { llmSettingsOf, llmTrainSettingsOf } from "./settings.js";
import type { ArchitectureSource } from "./source.js";

/** The runtime this module estimates for: eager PyTorch (a GGUF on llama.cpp is pipeline/llamacpp.ts's). */
function eagerRuntime(source: ArchitectureSource, id: string | undefined): void {
  const runtime = runtimeFor(source.kind, id);
  if (runtime !== "pytorch-cuda") throw new UsageError(`--runtime ${runtime}: a transformer architecture is estimated as eager PyTorch (pytorch-cuda) only`);
}

export const architecturePipeline: KindPipeline<ArchitectureSource> = {
  estimate(source, settings) {
    eagerRuntime(source, settings.runtime);
    const warnings: string[] = [];
    let report: Report;
    if (settings.mode === "train") {
      const train = llmTrainSettingsOf(settings, source.llm.arch, warnings);
      const saved = source.llm.arch.savedDtype;
      if (settings.dtype === undefined && saved !== undefined && saved !== "float32") {
        warnings.push(`training with fp32 master weights (the checkpoint is ${saved}): --dtype fp16|bf16 for autocast mixed precision`);
      }
      report = llmTrainReport(source.llm, train);
    } else {
      report = llmReport(source.llm, llmSettingsOf(settings, source.llm.arch, warnings));
    }
    report.warnings.unshift(...warnings);
    return report;
  },
  memoryAt(source, settings, axis, capacity) {
    eagerRuntime(source, settings.runtime);
    const arch = source.llm.arch;
    return (n) => {
      const s = withAxis(settings, axis, n);
      if (s.mode === "train") return llmTrainMemory(arch, llmTrainSettingsOf(s, arch, []), capacity).result.memory;
      return estimateLlm(arch, llmSettingsOf(s, arch, []), capacity).memory;
    };
  },
};
