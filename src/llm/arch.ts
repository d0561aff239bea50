/**
 * Transformer architectures described by a model hub's config.json: the numbers that decide weights,
 * activations and the KV cache. One family per code path HF transformers takes in eager mode.
 */
import { ModelFormatError } from "../errors.js";

export type Family = "gpt2" | "bert" | "llama";

export interface ArchSpec {
  family: Family;
  /** config.json's model_type (llama, mistral, qwen2, qwen3, gpt2, bert). */
  modelType: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  /** BERT token types. */
  typeVocab: number;
  tieEmbeddings: boolean;
  /** Bias on q/k/v projections (qwen2; gpt2 and bert have biases everywhere). */
  qkvBias: boolean;
  /** Bias on o_proj and the MLP (llama's attention_bias/mlp_bias). */
  outBias: boolean;
  mlpBias: boolean;
  /** qwen3 normalises q and k per head (q_norm, k_norm). */
  qkNorm: boolean;
  /** BERT's pooler (BertModel has one). */
  pooler: boolean;
  /** The dtype the checkpoint was saved in (`torch_dtype`/`dtype`), when given. */
  savedDtype: string | undefined;
  /** config.json names an eos_token_id (generate's min_new_tokens processor and eos stopping need one). */
  eos: boolean;
}

const LLAMA_LIKE = new Set(["llama", "mistral", "qwen2", "qwen3", "mixtral-dense", "yi", "internlm2", "granite"]);

/**
 * Plausible limits, refused beyond: each is far past any published model (the deepest dense ones have 96-126
 * layers, hidden sizes reach 16,384-25,600, vocabularies 256k, contexts 10M), and short of a count that would
 * make the per-layer simulation or a byte count run away. A config past one is hostile or broken, not big.
 * Layers: the simulation walks every layer's ops through the caching allocator, so its cost grows faster
 * than the layer count (measured on the 2-core EPYC: 1,000 layers 1 s to analyze, 18 s to fit; 10,000
 * layers 63 s to analyze), so the limit is 8x the deepest model rather than the 10^4 issue 12 suggested.
 */
export const ARCH_LIMITS = {
  layers: 1024,
  hidden: 1 << 20,
  heads: 1 << 16,
  headDim: 1 << 16,
  intermediate: 1 << 22,
  vocab: 1 << 24,
  positions: 1 << 28,
  typeVocab: 1 << 16,
} as const;

function within(what: string, keys: string, v: number, limit: number): number {
  if (v > limit) throw new ModelFormatError(`config.json: ${what} (${keys}) is ${v}, past the plausible limit of ${limit}`);
  return v;
}

/** Every dimension of the spec within ARCH_LIMITS (and a positive integer where it must be). */
function checkLimits(a: ArchSpec): ArchSpec {
  within("layers", "num_hidden_layers", a.layers, ARCH_LIMITS.layers);
  within("hidden size", "hidden_size", a.hidden, ARCH_LIMITS.hidden);
  within("attention heads", "num_attention_heads", a.heads, ARCH_LIMITS.heads);
  within("key/value heads", "num_key_value_heads", a.kvHeads, ARCH_LIMITS.heads);
  within("head size", "head_dim", a.headDim, ARCH_LIMITS.headDim);
  within("intermediate size", "intermediate_size", a.intermediate, ARCH_LIMITS.intermediate);
  within("vocabulary", "vocab_size", a.vocab, ARCH_LIMITS.vocab);
  within("positions", "max_position_embeddings", a.maxPositions, ARCH_LIMITS.positions);
  within("token types", "type_vocab_size", a.typeVocab, ARCH_LIMITS.typeVocab);
  for (const [what, v] of [["key/value heads", a.kvHeads], ["intermediate size", a.intermediate], ["positions", a.maxPositions]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new ModelFormatError(`config.json: ${what} is ${v}, not a positive integer`);
  }
  if (!Number.isSafeInteger(a.typeVocab) || a.typeVocab < 0) throw new ModelFormatError(`config.json: token types is ${a.typeVocab}, not a count`);
  return a;
}

function num(cfg: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = cfg[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return undefined;
}

function need(cfg: Record<string, unknown>, what: string, ...keys: string[]): number {
  const v = num(cfg, ...keys);
  if (v === undefined || !Number.isSafeInteger(v) || v <= 0) {
    throw new ModelFormatError(`config.json: ${what} (${keys.join(" or ")}) is missing or not a positive integer`);
  }
  return v;
}

/**
 * An optional count (`n_inner`, `type_vocab_size`, `num_key_value_heads`, `head_dim`, positions): when the
 * config gives it, it must be a whole number of at least `min`, or the estimate would be nonsense ("-238 GiB").
 */
function optional(cfg: Record<string, unknown>, what: string, key: string, fallback: number, min = 1): number {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ModelFormatError(`config.json: ${what} (${key}) is ${JSON.stringify(v)}: expected a whole number of at least ${min}`);
  }
  return v;
}

/** hidden / heads: a head's width, which must be whole. */
function headWidth(hidden: number, heads: number): number {
  if (hidden % heads !== 0) throw new ModelFormatError(`config.json: hidden size ${hidden} is not a multiple of ${heads} attention heads (head width ${hidden / heads})`);
  return hidden / heads;
}

/** `where` names the source in messages when it is not a config.json (a GGUF file's metadata). */
export function archFromConfig(cfg: Record<string, unknown>, where = "config.json"): ArchSpec {
  try {
    return checkLimits(archFromConfigUnchecked(cfg));
  } catch (e) {
    if (e instanceof ModelFormatError && where !== "config.json") throw new ModelFormatError(e.message.replace(/^config\.json: /, `${where}: `));
    throw e;
  }
}

function archFromConfigUnchecked(cfg: Record<string, unknown>): ArchSpec {
  const modelType = String(cfg["model_type"] ?? "");
  const eos = cfg["eos_token_id"] !== undefined && cfg["eos_token_id"] !== null;
  const savedDtype = typeof cfg["torch_dtype"] === "string" ? (cfg["torch_dtype"] as string) : typeof cfg["dtype"] === "string" ? (cfg["dtype"] as string) : undefined;
  if (modelType === "gpt2") {
    const hidden = need(cfg, "hidden size", "n_embd", "hidden_size");
    const heads = need(cfg, "attention heads", "n_head", "num_attention_heads");
    return {
      family: "gpt2", modelType, hidden, heads, kvHeads: heads, headDim: headWidth(hidden, heads),
      layers: need(cfg, "layers", "n_layer", "num_hidden_layers"),
      intermediate: optional(cfg, "MLP width", "n_inner", 4 * hidden),
      vocab: need(cfg, "vocabulary", "vocab_size"),
      maxPositions: need(cfg, "positions", "n_positions", "max_position_embeddings"),
      typeVocab: 0, tieEmbeddings: cfg["tie_word_embeddings"] !== false,
      qkvBias: true, outBias: true, mlpBias: true, qkNorm: false, pooler: false, savedDtype, eos,
    };
  }
  if (modelType === "bert") {
    const hidden = need(cfg, "hidden size", "hidden_size");
    const heads = need(cfg, "attention heads", "num_attention_heads");
    return {
      family: "bert", modelType, hidden, heads, kvHeads: heads, headDim: headWidth(hidden, heads),
      layers: need(cfg, "layers", "num_hidden_layers"),
      intermediate: need(cfg, "intermediate size", "intermediate_size"),
      vocab: need(cfg, "vocabulary", "vocab_size"),
      maxPositions: need(cfg, "positions", "max_position_embeddings"),
      typeVocab: optional(cfg, "token types", "type_vocab_size", 2, 0), tieEmbeddings: true,
      qkvBias: true, outBias: true, mlpBias: true, qkNorm: false, pooler: true, savedDtype, eos,
    };
  }
  if (LLAMA_LIKE.has(modelType)) {
    const hidden = need(cfg, "hidden size", "hidden_size");
    const heads = need(cfg, "attention heads", "num_attention_heads");
    const kvHeads = optional(cfg, "key/value heads", "num_key_value_heads", heads);
    const headDim = optional(cfg, "head width", "head_dim", 0) || headWidth(hidden, heads);
    if (!Number.isSafeInteger(headDim) || heads % kvHeads !== 0) {
      throw new ModelFormatError(`config.json: ${heads} heads, ${kvHeads} key/value heads and head_dim ${headDim} do not fit together`);
    }
    return {
      family: "llama", modelType, hidden, heads, kvHeads, headDim,
      layers: need(cfg, "layers", "num_hidden_layers"),
      intermediate: need(cfg, "intermediate size", "intermediate_size"),
      vocab: need(cfg, "vocabulary", "vocab_size"),
      maxPositions: optional(cfg, "positions", "max_position_embeddings", 4096),
      typeVocab: 0, tieEmbeddings: cfg["tie_word_embeddings"] === true,
      qkvBias: modelType === "qwen2" || cfg["attention_bias"] === true,
      outBias: cfg["attention_bias"] === true,
      mlpBias: cfg["mlp_bias"] === true,
      qkNorm: modelType === "qwen3",
      pooler: false, savedDtype, eos,
    };
  }
  // A JSON file with no model_type is not a transformers config at all (a sidecar, a tokenizer file, a dataset).
  if (modelType === "") throw new ModelFormatError("a JSON file with no model_type: not a transformers config.json (accepted: .onnx, a model hub folder or its config.json, .gguf)");
  throw new ModelFormatError(
    `config.json: model_type '${modelType}' is not modelled (supported: gpt2, bert, ${[...LLAMA_LIKE].join(", ")})`,
  );
}

/** Parameter count from the config alone, as HF builds the model (tied embeddings counted once). */
export function parameterCount(a: ArchSpec): number {
  const h = a.hidden;
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  if (a.family === "gpt2") {
    const layer = 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + 2 * h + (h * a.intermediate + a.intermediate) + (a.intermediate * h + h);
    return a.vocab * h + a.maxPositions * h + a.layers * layer + 2 * h + (a.tieEmbeddings ? 0 : a.vocab * h);
  }
  if (a.family === "bert") {
    const emb = a.vocab * h + a.maxPositions * h + a.typeVocab * h + 2 * h;
    const layer = 4 * (h * h + h) + 2 * h + (h * a.intermediate + a.intermediate) + (a.intermediate * h + h) + 2 * h;
    return emb + a.layers * layer + (a.pooler ? h * h + h : 0);
  }
  const attn = h * q + 2 * h * kv + q * h + (a.qkvBias ? q + 2 * kv : 0) + (a.outBias ? h : 0) + (a.qkNorm ? 2 * a.headDim : 0);
  const mlp = 3 * h * a.intermediate + (a.mlpBias ? 2 * a.intermediate + h : 0);
  const layer = attn + mlp + 2 * h;
  return a.vocab * h + a.layers * layer + h + (a.tieEmbeddings ? 0 : a.vocab * h);
}
