/**
 * An LLM's description from what its files say, with no file access: config.json's object, the safetensors
 * headers' tensors, or a GGUF header. Shared by the CLI (src/llm/source.ts reads the files with node:fs) and
 * the web page (web/files.ts reads them from File objects).
 */
import type { GgufFile } from "../formats/gguf.js";
import type { SafetensorsTensor } from "../formats/safetensors.js";
import { archFromConfig, parameterCount, type ArchSpec } from "./arch.js";

export interface LlmSource {
  file: string;
  format: "hf-config" | "safetensors" | "gguf";
  arch: ArchSpec;
  /** Exact parameter count and bytes when the weights' headers were read; else from the config. */
  parameters: number;
  weightBytes: number | undefined;
  /** Stored dtypes of the weights (safetensors dtype or ggml type name) with their bytes. */
  storedTypes: Record<string, number>;
  warnings: string[];
}

/** config.json, and the safetensors headers' tensors when the checkpoint is there (undefined: config only). */
export function describeHub(config: Record<string, unknown>, file: string, tensors: readonly SafetensorsTensor[] | undefined, warnings: string[] = []): LlmSource {
  const arch = archFromConfig(config);
  const fromConfig = parameterCount(arch);
  if (!tensors) return { file, format: "hf-config", arch, parameters: fromConfig, weightBytes: undefined, storedTypes: {}, warnings };
  const { parameters, weightBytes, storedTypes } = tally(tensors.map((t) => [t.dtype, t.elements, t.bytes]));
  if (parameters !== fromConfig) {
    warnings.push(`safetensors hold ${parameters} parameters, config.json implies ${fromConfig}: using the files' count`);
  }
  return { file, format: "safetensors", arch, parameters, weightBytes, storedTypes, warnings };
}

/** GGUF metadata keys are prefixed by general.architecture (llama.block_count, qwen2.embedding_length...). */
export function describeGguf(g: GgufFile, file: string): LlmSource {
  const archName = String(g.metadata["general.architecture"] ?? "");
  const n = (k: string): number | undefined => {
    const v = g.metadata[`${archName}.${k}`];
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
  };
  const tokens = g.metadata["tokenizer.ggml.tokens"];
  const embd = g.tensors.find((t) => t.name === "token_embd.weight");
  const cfg: Record<string, unknown> = {
    model_type: archName,
    hidden_size: n("embedding_length"),
    n_embd: n("embedding_length"),
    num_hidden_layers: n("block_count"),
    n_layer: n("block_count"),
    num_attention_heads: n("attention.head_count"),
    n_head: n("attention.head_count"),
    num_key_value_heads: n("attention.head_count_kv"),
    intermediate_size: n("feed_forward_length"),
    n_inner: n("feed_forward_length"),
    max_position_embeddings: n("context_length"),
    n_positions: n("context_length"),
    vocab_size: n("vocab_size") ?? (Array.isArray(tokens) ? tokens.length : embd?.dims[1]),
    head_dim: n("attention.key_length"),
    tie_word_embeddings: !g.tensors.some((t) => t.name === "output.weight"),
  };
  const arch = archFromConfig(cfg, `${file}: GGUF metadata, read as config.json`);
  const { parameters, weightBytes, storedTypes } = tally(g.tensors.map((t) => [t.typeName, t.elements, t.bytes]));
  return { file, format: "gguf", arch, parameters, weightBytes, storedTypes, warnings: [] };
}

function tally(rows: readonly [string, number, number][]): { parameters: number; weightBytes: number; storedTypes: Record<string, number> } {
  let parameters = 0;
  let weightBytes = 0;
  // No prototype: a stored type named `__proto__` (from the file) is a key like any other.
  const storedTypes: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [type, elements, bytes] of rows) {
    parameters += elements;
    weightBytes += bytes;
    storedTypes[type] = (storedTypes[type] ?? 0) + bytes;
  }
  // A plain object again (own keys only, `__proto__` included), as JSON and callers expect.
  return { parameters, weightBytes, storedTypes: { ...storedTypes } };
}
