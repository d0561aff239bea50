/**
 * GGUF files shaped like real models, for the writer (src/formats/gguf-writer.ts): the tensors and metadata
 * keys llama.cpp's loader asks for, per architecture (llama.cpp src/models/<arch>.cpp load_arch_hparams and
 * load_arch_tensors), with an SPM tokenizer so the vocabulary is real. Layers and widths are scaled down so a
 * file is tens of MB; head layout, GQA ratio, experts, sliding window and vocabulary keep the real model's.
 */
import { ggufBytes, meta, type GgufMetaValue, type GgufWriterInput, type GgufWriterTensor } from "./gguf-writer.js";

export type GgufArch = "llama" | "qwen2" | "qwen3" | "qwen3moe" | "gemma2" | "gemma3" | "phi3";

export interface ModelShape {
  /** A name for the file (general.name). */
  name: string;
  arch: GgufArch;
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  /** Per-head width; n_embd / heads when absent. */
  headDim?: number;
  ff: number;
  vocab: number;
  contextLength: number;
  /** Mixture of experts: experts, experts used per token, and the expert FFN width (qwen3moe). */
  experts?: number;
  expertsUsed?: number;
  expertFf?: number;
  /** Sliding-window attention (gemma2/gemma3): window in tokens. */
  slidingWindow?: number;
  /** The embedding doubles as the output projection (no output.weight). */
  tiedEmbeddings?: boolean;
}

/** ggml type codes the writer's callers use. */
export const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 } as const;

export interface TypePlan {
  /** Matrices inside the layers. */
  weights: number;
  /** token_embd.weight; the weights' type when absent. */
  embedding?: number;
  /** output.weight; the weights' type when absent. */
  output?: number;
}

/**
 * The SPM vocabulary llama.cpp's loader accepts: <unk> <s> </s>, the 256 byte tokens, <|endoftext|> (the
 * loader looks it up by name for models named phi-3), then plain pieces.
 */
export function spmVocab(size: number): GgufMetaValue[] {
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [2, 3, 3]; // UNKNOWN, CONTROL, CONTROL (llama_token_type)
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6); // BYTE
  }
  tokens.push("<|endoftext|>");
  types.push(3);
  for (let i = tokens.length; i < size; i++) {
    tokens.push(`\u2581t${i}`);
    types.push(1); // NORMAL
  }
  const scores = tokens.map((_, i) => -i);
  return [meta.strings(tokens.slice(0, size)), meta.f32s(scores.slice(0, size)), meta.i32s(types.slice(0, size))];
}

const NORM = GGML.F32;

function layerTensors(s: ModelShape, l: number, plan: TypePlan): GgufWriterTensor[] {
  const hd = s.headDim ?? s.embd / s.heads;
  const q = s.heads * hd;
  const kv = s.kvHeads * hd;
  const w = plan.weights;
  const t = (name: string, dims: number[], type = w): GgufWriterTensor => ({ name: `blk.${l}.${name}`, dims, type });
  const out: GgufWriterTensor[] = [t("attn_norm.weight", [s.embd], NORM)];
  if (s.arch === "phi3") {
    out.push(t("attn_qkv.weight", [s.embd, q + 2 * kv]));
  } else {
    out.push(t("attn_q.weight", [s.embd, q]), t("attn_k.weight", [s.embd, kv]), t("attn_v.weight", [s.embd, kv]));
    if (s.arch === "qwen2") out.push(t("attn_q.bias", [q], NORM), t("attn_k.bias", [kv], NORM), t("attn_v.bias", [kv], NORM));
  }
  if (s.arch === "qwen3" || s.arch === "qwen3moe" || s.arch === "gemma3") out.push(t("attn_q_norm.weight", [hd], NORM), t("attn_k_norm.weight", [hd], NORM));
  out.push(t("attn_output.weight", [q, s.embd]));
  if (s.arch === "gemma2" || s.arch === "gemma3") out.push(t("post_attention_norm.weight", [s.embd], NORM));
  out.push(t("ffn_norm.weight", [s.embd], NORM));
  if (s.experts) {
    const eff = s.expertFf ?? s.ff;
    out.push(
      t("ffn_gate_inp.weight", [s.embd, s.experts], NORM),
      t("ffn_gate_exps.weight", [s.embd, eff, s.experts]),
      t("ffn_down_exps.weight", [eff, s.embd, s.experts]),
      t("ffn_up_exps.weight", [s.embd, eff, s.experts]),
    );
  } else if (s.arch === "phi3") {
    out.push(t("ffn_down.weight", [s.ff, s.embd]), t("ffn_up.weight", [s.embd, 2 * s.ff]));
  } else {
    out.push(t("ffn_gate.weight", [s.embd, s.ff]), t("ffn_down.weight", [s.ff, s.embd]), t("ffn_up.weight", [s.embd, s.ff]));
  }
  if (s.arch === "gemma2" || s.arch === "gemma3") out.push(t("post_ffw_norm.weight", [s.embd], NORM));
  return out;
}

/** The file a converter would write for this shape: metadata first, tensors in llama.cpp's usual order. */
export function shapeGguf(s: ModelShape, plan: TypePlan): GgufWriterInput {
  const hd = s.headDim ?? s.embd / s.heads;
  const a = s.arch;
  const tied = s.tiedEmbeddings ?? (a === "gemma2" || a === "gemma3");
  const tensors: GgufWriterTensor[] = [{ name: "token_embd.weight", dims: [s.embd, s.vocab], type: plan.embedding ?? plan.weights }];
  for (let l = 0; l < s.layers; l++) tensors.push(...layerTensors(s, l, plan));
  tensors.push({ name: "output_norm.weight", dims: [s.embd], type: NORM });
  if (!tied) tensors.push({ name: "output.weight", dims: [s.embd, s.vocab], type: plan.output ?? plan.weights });
  const [tokens, scores, types] = spmVocab(s.vocab);
  const metadata: [string, GgufMetaValue][] = [
    ["general.architecture", meta.str(a)],
    ["general.name", meta.str(s.name)],
    ["general.file_type", meta.u32(1)],
    [`${a}.context_length`, meta.u32(s.contextLength)],
    [`${a}.embedding_length`, meta.u32(s.embd)],
    [`${a}.block_count`, meta.u32(s.layers)],
    [`${a}.feed_forward_length`, meta.u32(s.ff)],
    [`${a}.attention.head_count`, meta.u32(s.heads)],
    [`${a}.attention.head_count_kv`, meta.u32(s.kvHeads)],
    [`${a}.attention.layer_norm_rms_epsilon`, meta.f32(1e-6)],
    [`${a}.rope.freq_base`, meta.f32(10000)],
    [`${a}.vocab_size`, meta.u32(s.vocab)],
  ];
  if (s.headDim !== undefined) metadata.push([`${a}.attention.key_length`, meta.u32(hd)], [`${a}.attention.value_length`, meta.u32(hd)]);
  if (s.experts) {
    metadata.push([`${a}.expert_count`, meta.u32(s.experts)], [`${a}.expert_used_count`, meta.u32(s.expertsUsed ?? 2)]);
    if (s.expertFf !== undefined) metadata.push([`${a}.expert_feed_forward_length`, meta.u32(s.expertFf)]);
  }
  if (s.slidingWindow !== undefined) metadata.push([`${a}.attention.sliding_window`, meta.u32(s.slidingWindow)]);
  if (a === "gemma2") metadata.push([`${a}.attn_logit_softcapping`, meta.f32(50)], [`${a}.final_logit_softcapping`, meta.f32(30)]);
  metadata.push(
    ["tokenizer.ggml.model", meta.str("llama")],
    ["tokenizer.ggml.tokens", tokens!],
    ["tokenizer.ggml.scores", scores!],
    ["tokenizer.ggml.token_type", types!],
    ["tokenizer.ggml.unknown_token_id", meta.u32(0)],
    ["tokenizer.ggml.bos_token_id", meta.u32(1)],
    ["tokenizer.ggml.eos_token_id", meta.u32(2)],
  );
  return { metadata, tensors };
}

/**
 * Shapes of real models, scaled: each keeps its model's architecture, head width, GQA ratio, experts,
 * sliding window and vocabulary; layers and hidden widths are fewer so the file stays small.
 */
export const MODEL_SHAPES: Record<string, ModelShape> = {
  "llama1-like": { name: "llama-1-7b-like", arch: "llama", layers: 3, embd: 512, heads: 4, kvHeads: 4, ff: 1536, vocab: 32000, contextLength: 2048 },
  "llama2-like": { name: "llama-2-7b-like", arch: "llama", layers: 4, embd: 512, heads: 4, kvHeads: 4, ff: 1536, vocab: 32000, contextLength: 4096 },
  "llama3-like": { name: "llama-3-8b-like", arch: "llama", layers: 4, embd: 512, heads: 4, kvHeads: 1, headDim: 128, ff: 1792, vocab: 128256, contextLength: 8192 },
  "mistral-like": { name: "mistral-7b-like", arch: "llama", layers: 4, embd: 512, heads: 4, kvHeads: 1, headDim: 128, ff: 1792, vocab: 32768, contextLength: 32768 },
  "qwen2-like": { name: "qwen2.5-0.5b-like", arch: "qwen2", layers: 3, embd: 896, heads: 14, kvHeads: 2, ff: 4864, vocab: 151936, contextLength: 32768, tiedEmbeddings: true },
  "qwen3-like": { name: "qwen3-0.6b-like", arch: "qwen3", layers: 3, embd: 1024, heads: 16, kvHeads: 8, headDim: 128, ff: 3072, vocab: 151936, contextLength: 40960, tiedEmbeddings: true },
  "qwen3moe-like": { name: "qwen3-30b-a3b-like", arch: "qwen3moe", layers: 3, embd: 512, heads: 8, kvHeads: 1, headDim: 128, ff: 1536, vocab: 151936, contextLength: 40960, experts: 16, expertsUsed: 4, expertFf: 256 },
  "mixtral-like": { name: "mixtral-8x7b-like", arch: "llama", layers: 3, embd: 512, heads: 4, kvHeads: 1, headDim: 128, ff: 1024, vocab: 32000, contextLength: 32768, experts: 8, expertsUsed: 2 },
  "gemma2-like": { name: "gemma-2-2b-like", arch: "gemma2", layers: 4, embd: 512, heads: 2, kvHeads: 1, headDim: 256, ff: 2048, vocab: 256000, contextLength: 8192, slidingWindow: 1024 },
  "gemma3-like": { name: "gemma-3-1b-like", arch: "gemma3", layers: 7, embd: 512, heads: 4, kvHeads: 1, headDim: 256, ff: 1536, vocab: 262144, contextLength: 32768, slidingWindow: 512 },
  "phi3-like": { name: "phi-3-mini-like", arch: "phi3", layers: 3, embd: 768, heads: 8, kvHeads: 8, ff: 2048, vocab: 32064, contextLength: 4096 },
};

/**
 * Small GGUFs from the writer, one per architecture and weight type, for fuzzers: each is a real file llama.cpp
 * loads (tiny widths, a 300-token vocabulary), a few tens of kB.
 */
export function ggufFuzzSeeds(): { name: string; bytes: Uint8Array<ArrayBuffer> }[] {
  const plans: [string, TypePlan][] = [["f32", { weights: GGML.F32 }], ["f16", { weights: GGML.F16 }], ["q8_0", { weights: GGML.Q8_0 }], ["q4_0", { weights: GGML.Q4_0 }], ["q4_k", { weights: GGML.Q4_K }]];
  return Object.entries(MODEL_SHAPES).map(([id, shape], i) => {
    const [label, plan] = plans[i % plans.length]!;
    const tiny: ModelShape = { ...shape, layers: Math.min(shape.layers, 2), embd: 256, heads: 2, kvHeads: 1, headDim: 128, ff: 256, vocab: 300, ...(shape.expertFf ? { expertFf: 256 } : {}), ...(shape.experts ? { experts: 4, expertsUsed: 2 } : {}) };
    return { name: `${id}-${label}.gguf`, bytes: ggufBytes(shapeGguf(tiny, plan), i + 1) };
  });
}
