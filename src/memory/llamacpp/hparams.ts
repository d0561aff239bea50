/**
 * The hyperparameters llama.cpp reads from a GGUF header (llama-model.cpp load_hparams and each
 * src/models/<arch>.cpp load_arch_hparams), as far as memory depends on them: widths per layer (head counts
 * may be per-layer arrays), head dims (`attention.key_length`, else n_embd / n_head), the sliding window and
 * which layers use it, experts, and the vocabulary size.
 */
import { ModelFormatError } from "../../errors.js";
import type { GgufFile, GgufValue } from "../../formats/gguf.js";

/** Architectures whose graph src/memory/llamacpp/graph.ts builds; any other gets model buffers and KV only. */
export const GRAPH_ARCHS = ["llama", "mistral", "qwen2", "qwen3", "qwen3moe", "gemma2", "gemma3", "phi3", "mixtral"] as const;

export interface LlamaHparams {
  arch: string;
  name: string;
  nLayer: number;
  nEmbd: number;
  nHead: number[];
  nHeadKv: number[];
  headDimK: number;
  headDimV: number;
  nFf: number;
  nVocab: number;
  nCtxTrain: number;
  nExpert: number;
  nExpertUsed: number;
  nFfExpert: number;
  /** Sliding window in tokens (0: none) and, per layer, whether it uses it. */
  nSwa: number;
  isSwa: boolean[];
  /** Gemma 2: soft-capped attention logits (three extra ops on K·Q without flash attention). */
  attnSoftcap: boolean;
  finalSoftcap: boolean;
}

function num(v: GgufValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function perLayer(v: GgufValue | undefined, n: number, fallback: number): number[] {
  if (Array.isArray(v)) return Array.from({ length: n }, (_, i) => num(v[i]) ?? fallback);
  const x = num(v) ?? fallback;
  return Array.from({ length: n }, () => x);
}

/**
 * llama_hparams::set_swa_pattern: with pattern p, layer il uses the window when il % p < p - 1 (the last layer
 * of each group of p is global). Gemma 2 defaults to 2, Gemma 3 to 6; `attention.sliding_window_pattern` wins.
 */
function swaLayers(g: GgufFile, arch: string, nLayer: number, nSwa: number): boolean[] {
  if (nSwa === 0) return Array.from({ length: nLayer }, () => false);
  const key = g.metadata[`${arch}.attention.sliding_window_pattern`];
  if (Array.isArray(key)) return Array.from({ length: nLayer }, (_, i) => key[i] === true || key[i] === 1);
  const p = num(key) ?? (arch === "gemma2" ? 2 : arch === "gemma3" ? 6 : 0);
  return Array.from({ length: nLayer }, (_, il) => p === 0 || il % p < p - 1);
}

/**
 * Bounds on what a GGUF may claim before anything is sized by it (a hostile header must not make memlens loop
 * or allocate per layer without limit): well above any released model (DeepSeek-V3: 61 layers, 7168 wide,
 * 256 experts, a 129k vocabulary).
 */
export const HPARAM_LIMITS = { block_count: 4096, embedding_length: 1 << 20, "attention.head_count": 1 << 16, "attention.head_count_kv": 1 << 16, "attention.key_length": 1 << 16, "attention.value_length": 1 << 16, feed_forward_length: 1 << 24, expert_count: 1 << 16, expert_used_count: 1 << 16, expert_feed_forward_length: 1 << 24, context_length: 1 << 30, "attention.sliding_window": 1 << 30, vocab_size: 1 << 24 } as const;

function checkLimits(g: GgufFile, arch: string): void {
  for (const [key, limit] of Object.entries(HPARAM_LIMITS)) {
    const v = g.metadata[`${arch}.${key}`];
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    if (values.length > (HPARAM_LIMITS.block_count as number)) throw new ModelFormatError(`GGUF key ${arch}.${key}: ${values.length} values exceeds ${HPARAM_LIMITS.block_count} layers`);
    for (const x of values) {
      const n = num(x);
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > limit) throw new ModelFormatError(`GGUF key ${arch}.${key} = ${String(x)}: not a count in 0..${limit}`);
    }
  }
}

export function readHparams(g: GgufFile): LlamaHparams {
  const arch = String(g.metadata["general.architecture"] ?? "");
  const k = (key: string) => g.metadata[`${arch}.${key}`];
  checkLimits(g, arch);
  const nLayer = num(k("block_count")) ?? 0;
  const nEmbd = num(k("embedding_length")) ?? 0;
  const nHead = perLayer(k("attention.head_count"), nLayer, 0);
  const nHeadKv = perLayer(k("attention.head_count_kv"), nLayer, nHead[0] ?? 0);
  const head0 = nHead[0] || 1;
  const headDimK = num(k("attention.key_length")) ?? Math.floor(nEmbd / head0);
  const headDimV = num(k("attention.value_length")) ?? headDimK;
  const tokens = g.metadata["tokenizer.ggml.tokens"];
  const embd = g.tensors.find((t) => t.name === "token_embd.weight");
  const nVocab = Array.isArray(tokens) ? tokens.length : num(k("vocab_size")) ?? embd?.dims[1] ?? 0;
  // Gemma 2 keeps a 4096 window when the key is absent; Phi-3 reads its window and then disables SWA.
  const windowKey = num(k("attention.sliding_window"));
  const nSwa = arch === "phi3" ? 0 : arch === "gemma2" ? windowKey ?? 4096 : arch === "gemma3" ? windowKey ?? 0 : 0;
  return {
    arch,
    name: String(g.metadata["general.name"] ?? ""),
    nLayer,
    nEmbd,
    nHead,
    nHeadKv,
    headDimK,
    headDimV,
    nFf: num(k("feed_forward_length")) ?? 0,
    nVocab,
    nCtxTrain: num(k("context_length")) ?? 0,
    nExpert: num(k("expert_count")) ?? 0,
    nExpertUsed: num(k("expert_used_count")) ?? 0,
    nFfExpert: num(k("expert_feed_forward_length")) ?? num(k("feed_forward_length")) ?? 0,
    nSwa,
    isSwa: swaLayers(g, arch, nLayer, nSwa),
    attnSoftcap: arch === "gemma2",
    finalSoftcap: arch === "gemma2" || (arch === "gemma3" && (num(k("final_logit_softcapping")) ?? 0) > 0),
  };
}

/** llama.cpp's n_embd_k_gqa(il) and n_embd_v_gqa(il): the K and V row widths of a layer's cache. */
export function kvWidths(h: LlamaHparams, il: number): { k: number; v: number } {
  const kv = h.nHeadKv[il] ?? 0;
  return { k: h.headDimK * kv, v: h.headDimV * kv };
}
