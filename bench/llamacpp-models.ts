/**
 * What bench:llamacpp measures: GGUFs shaped like real models (src/formats/gguf-models.ts) at the weight types
 * their published GGUFs use, and llama.cpp settings as its command line spells them.
 */
import { GGML, MODEL_SHAPES, type ModelShape, type TypePlan } from "../src/formats/gguf-models.js";
import { LLAMACPP_DEFAULTS, type LlamaCppSettings } from "../src/memory/llamacpp/settings.js";

export interface BenchModel {
  id: string;
  shape: ModelShape;
  plan: TypePlan;
  /** The type named in the file name (f16, q4_0, q4_k_m...). */
  label: string;
}

const m = (shape: string, label: string, plan: TypePlan): BenchModel => ({ id: `${shape}-${label}`, shape: MODEL_SHAPES[shape]!, plan, label });

/** Q4_K_M-style: Q4_K matrices, Q6_K output. Widths that are not whole 256-blocks take Q8_0/Q4_0 as llama-quantize does. */
export const BENCH_MODELS: BenchModel[] = [
  m("llama1-like", "f32", { weights: GGML.F32 }),
  m("llama2-like", "q4_0", { weights: GGML.Q4_0 }),
  m("llama3-like", "q4_k_m", { weights: GGML.Q4_K, output: GGML.Q6_K }),
  m("mistral-like", "q8_0", { weights: GGML.Q8_0 }),
  m("qwen2-like", "q8_0", { weights: GGML.Q8_0 }),
  m("qwen3-like", "q4_k", { weights: GGML.Q4_K }),
  m("qwen3moe-like", "q4_k_m", { weights: GGML.Q4_K, output: GGML.Q6_K }),
  m("mixtral-like", "q4_0", { weights: GGML.Q4_0 }),
  m("gemma2-like", "q4_k", { weights: GGML.Q4_K }),
  m("gemma3-like", "q4_0", { weights: GGML.Q4_0 }),
  m("phi3-like", "f16", { weights: GGML.F16 }),
];

/** A measured llama.cpp setting: memlens's llama.cpp settings less the CPU variant and -ngl (CPU only here). */
export type LlamaSetting = Omit<LlamaCppSettings, "cpu" | "gpuLayers">;

const { gpuLayers: _gpuLayers, ...cpuDefaults } = LLAMACPP_DEFAULTS;
export const DEFAULT_SETTING: LlamaSetting = cpuDefaults;

export function settingFlags(s: LlamaSetting): string {
  const parts = [`-c ${s.ctx}`];
  if (s.parallel !== 1) parts.push(`-np ${s.parallel}`);
  if (s.batch !== DEFAULT_SETTING.batch) parts.push(`-b ${s.batch}`);
  if (s.ubatch !== DEFAULT_SETTING.ubatch) parts.push(`-ub ${s.ubatch}`);
  parts.push(`-fa ${s.fa}`);
  if (s.typeK !== "f16") parts.push(`-ctk ${s.typeK}`);
  if (s.typeV !== "f16") parts.push(`-ctv ${s.typeV}`);
  if (!s.mmap) parts.push("--no-mmap");
  if (s.kvUnified) parts.push("--kv-unified");
  if (s.swaFull) parts.push("--swa-full");
  return parts.join(" ");
}

const v = (o: Partial<LlamaSetting>): LlamaSetting => ({ ...DEFAULT_SETTING, ...o });

/** Every model runs these: context, parallel sequences, batch/ubatch, flash attention, KV types, mmap. */
export const COMMON_SETTINGS: LlamaSetting[] = [
  v({ ctx: 2048, fa: "off" }),
  v({ ctx: 4096, fa: "on" }),
  v({ ctx: 1000, fa: "off", ubatch: 256, batch: 1024 }),
  v({ ctx: 8192, parallel: 4, fa: "on" }),
  v({ ctx: 4096, fa: "off", ubatch: 128 }),
  v({ ctx: 4096, fa: "on", typeK: "q8_0", typeV: "q8_0" }),
  v({ ctx: 2048, fa: "off", mmap: false }),
  // Long contexts without flash attention: the K·Q matrix, not the logits, is the largest tensor.
  v({ ctx: 16384, fa: "off" }),
  v({ ctx: 32768, fa: "off", ubatch: 256 }),
  // llama.cpp's default -fa auto.
  v({ ctx: 8192 }),
];

/** A few models also run the rarer ones. */
export const EXTRA_SETTINGS: Record<string, LlamaSetting[]> = {
  "llama3-like-q4_k_m": [v({ ctx: 8192, parallel: 2, kvUnified: true, fa: "on" }), v({ ctx: 4096, fa: "on", typeK: "q4_0", typeV: "q4_0" }), v({ ctx: 4096, fa: "off", typeK: "bf16", typeV: "bf16" })],
  "gemma2-like-q4_k": [v({ ctx: 8192, fa: "on", swaFull: true }), v({ ctx: 8192, parallel: 2, fa: "off" })],
  "gemma3-like-q4_0": [v({ ctx: 16384, fa: "on", swaFull: true }), v({ ctx: 16384, parallel: 3, fa: "on", kvUnified: true }), v({ ctx: 8192, fa: "on", typeK: "q4_1", typeV: "iq4_nl" })],
  "qwen3-like-q4_k": [v({ ctx: 2048, ubatch: 1024, batch: 1024, fa: "off" }), v({ ctx: 4096, fa: "on", typeK: "q5_0", typeV: "q5_1", mmap: false })],
  "mixtral-like-q4_0": [v({ ctx: 4096, fa: "off", mmap: false })],
};

export function settingsFor(model: BenchModel): LlamaSetting[] {
  return [...COMMON_SETTINGS, ...(EXTRA_SETTINGS[model.id] ?? [])];
}

/**
 * Held out: shapes and settings the runtime was not developed against (other widths, head counts, vocabularies,
 * windows, odd contexts and ubatches), measured the same way into their own file.
 */
const h = (id: string, shape: ModelShape, label: string, plan: TypePlan): BenchModel => ({ id: `${id}-${label}`, shape, plan, label });
export const HELDOUT_MODELS: BenchModel[] = [
  h("tinyllama-like", { name: "tinyllama-1.1b-like", arch: "llama", layers: 5, embd: 768, heads: 12, kvHeads: 4, ff: 2048, vocab: 32000, contextLength: 2048 }, "q4_k_m", { weights: GGML.Q4_K, output: GGML.Q6_K }),
  h("qwen2.5-1.5b-like", { name: "qwen2.5-1.5b-like", arch: "qwen2", layers: 2, embd: 1536, heads: 12, kvHeads: 2, ff: 8960, vocab: 151936, contextLength: 32768, tiedEmbeddings: true }, "q4_0", { weights: GGML.Q4_0 }),
  h("gemma2-9b-like", { name: "gemma-2-9b-like", arch: "gemma2", layers: 6, embd: 512, heads: 4, kvHeads: 2, headDim: 256, ff: 1536, vocab: 256000, contextLength: 8192, slidingWindow: 4096 }, "q8_0", { weights: GGML.Q8_0 }),
  h("qwen3-4b-like", { name: "qwen3-4b-like", arch: "qwen3", layers: 4, embd: 640, heads: 8, kvHeads: 2, headDim: 128, ff: 2560, vocab: 151936, contextLength: 40960 }, "f16", { weights: GGML.F16 }),
  h("phi3-medium-like", { name: "phi-3-medium-like", arch: "phi3", layers: 4, embd: 1280, heads: 10, kvHeads: 2, ff: 3584, vocab: 32064, contextLength: 4096 }, "q4_0", { weights: GGML.Q4_0 }),
];

export const HELDOUT_SETTINGS: LlamaSetting[] = [
  v({ ctx: 3000, fa: "off" }),
  v({ ctx: 12288, parallel: 3, batch: 1024, ubatch: 384, fa: "on", typeK: "q8_0", typeV: "q8_0" }),
  v({ ctx: 6000, parallel: 2, batch: 512, ubatch: 512, fa: "off", typeK: "q4_0", mmap: false, kvUnified: true }),
  v({ ctx: 20000, ubatch: 1024, fa: "on", swaFull: true }),
];
