/**
 * memlens, the library: the seed's API. `loadModel` reads a model (analysis never loads onnxruntime;
 * running it does), `loadImage` decodes an image, `profile` measures a real run beside the prediction.
 */
import { MemlensModel, type LoadModelOptions } from "./runtime/model.js";

export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<MemlensModel> {
  return MemlensModel.load(path, opts);
}

export { MemlensModel } from "./runtime/model.js";
export type { LoadModelOptions, MemoryOptions, ModelLayer, PredictOptions, Prediction, SizeOptions } from "./runtime/model.js";
export { loadImage, imageFromPixels } from "./runtime/image.js";
export type { LoadedImage, LoadImageOptions } from "./runtime/image.js";
export type { ImageSpec, PreprocessOptions } from "./runtime/preprocess.js";
export { profile } from "./runtime/profile.js";
export type { ArenaStats, ProfileResult, ProfiledLayer } from "./runtime/profile.js";
export type { LayerComparison } from "./runtime/compare.js";
export type { HostTensor } from "./runtime/ort.js";
export type { Scored } from "./runtime/topk.js";
export { analyzeModel } from "./analyze.js";
export { quantize, QuantizedModel } from "./quantize/model.js";
export type { QuantizeOptions, QuantizeReport } from "./quantize/quantize.js";
export { PRESETS as PREPROCESS_PRESETS, META_LABELS, META_PREPROCESS } from "./runtime/preprocessing.js";
export type { ExplicitPreprocessing, PresetName, ResolvedPreprocessing } from "./runtime/preprocessing.js";
export type { Report, Layer, ModelSummary } from "./contract/report.js";
export { MemlensError, ModelFormatError, InputError, ShapeError, UsageError } from "./errors.js";
// LLMs without an ONNX graph: a hub folder, config.json, safetensors or GGUF, estimated from the architecture.
export { openLlm } from "./llm/source.js";
export { llmReport, estimateLlm, kvCacheBytes } from "./llm/estimate.js";
export type { LlmSource } from "./llm/describe.js";
export type { LlmSettings } from "./llm/estimate.js";
// Training beyond one GPU: per-GPU model states for DDP, ZeRO-1/2/3, FSDP and tensor parallelism (docs/distributed.md).
export { distributedMemory } from "./memory/distributed.js";
export type { DistributedInput, DistributedResult, Strategy, Offload } from "./memory/distributed.js";
