/**
 * What a user has in hand for an LLM, read into one description: a model hub folder (config.json plus
 * safetensors headers, sharded or not), a bare config.json, or a GGUF file. Weights are never read: only
 * the safetensors JSON headers and the GGUF header.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ModelFormatError } from "../errors.js";
import { readGguf, type GgufFile } from "../formats/gguf.js";
import { readSafetensorsHeader, shardsOfIndex, type SafetensorsTensor } from "../formats/safetensors.js";
import { FileSource } from "../formats/source-node.js";
import { archFromConfig, parameterCount, type ArchSpec } from "./arch.js";

/** config.json is small; a larger one is not a config. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

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

export function isLlmPath(path: string): boolean {
  if (existsSync(path) && statSync(path).isDirectory()) return existsSync(join(path, "config.json"));
  return /(^|\/)config\.json$|\.safetensors$|\.safetensors\.index\.json$|\.gguf$/i.test(path);
}

function readConfig(path: string): Record<string, unknown> {
  const size = statSync(path).size;
  if (size > MAX_CONFIG_BYTES) throw new ModelFormatError(`${path}: ${size} bytes is too large for a config.json`);
  try {
    const v = JSON.parse(readFileSync(path, "utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError(`${path}: not a JSON config (${(e as Error).message})`);
  }
}

/** Header tensors of a folder's safetensors: the index's shards, or model.safetensors. */
function safetensorsIn(folder: string, warnings: string[]): SafetensorsTensor[] | undefined {
  const index = ["model.safetensors.index.json"].map((f) => join(folder, f)).find(existsSync);
  const files = index ? shardsOfIndex(readFileSync(index, "utf8"), basename(index)) : existsSync(join(folder, "model.safetensors")) ? ["model.safetensors"] : [];
  if (files.length === 0) return undefined;
  const out: SafetensorsTensor[] = [];
  for (const f of files) {
    const p = join(folder, f);
    if (!existsSync(p)) {
      warnings.push(`shard ${f} is missing: parameter count from config.json`);
      return undefined;
    }
    const src = new FileSource(p);
    try {
      out.push(...readSafetensorsHeader(src).tensors);
    } finally {
      src.close();
    }
  }
  return out;
}

export function openLlm(path: string): LlmSource {
  if (!existsSync(path)) throw new ModelFormatError(`cannot read ${path}: ENOENT`);
  if (/\.gguf$/i.test(path)) return fromGguf(path);
  const isDir = statSync(path).isDirectory();
  const folder = isDir ? path : dirname(path);
  const configPath = isDir ? join(path, "config.json") : /\.json$/i.test(path) && !/index\.json$/i.test(path) ? path : join(folder, "config.json");
  if (!existsSync(configPath)) throw new ModelFormatError(`${path}: no config.json next to it (the architecture comes from there)`);
  const arch = archFromConfig(readConfig(configPath));
  const warnings: string[] = [];
  const tensors = safetensorsIn(folder, warnings);
  const fromConfig = parameterCount(arch);
  if (!tensors) {
    return { file: basename(isDir ? configPath : path), format: "hf-config", arch, parameters: fromConfig, weightBytes: undefined, storedTypes: {}, warnings };
  }
  let parameters = 0;
  let weightBytes = 0;
  const storedTypes: Record<string, number> = {};
  for (const t of tensors) {
    parameters += t.elements;
    weightBytes += t.bytes;
    storedTypes[t.dtype] = (storedTypes[t.dtype] ?? 0) + t.bytes;
  }
  if (parameters !== fromConfig) {
    warnings.push(`safetensors hold ${parameters} parameters, config.json implies ${fromConfig}: using the files' count`);
  }
  return { file: basename(path), format: "safetensors", arch, parameters, weightBytes, storedTypes, warnings };
}

/** GGUF metadata keys are prefixed by general.architecture (llama.block_count, qwen2.embedding_length...). */
function fromGguf(path: string): LlmSource {
  const src = new FileSource(path);
  let g: GgufFile;
  try {
    g = readGguf(src);
  } finally {
    src.close();
  }
  const archName = String(g.metadata["general.architecture"] ?? "");
  const key = (k: string) => g.metadata[`${archName}.${k}`];
  const n = (k: string): number | undefined => {
    const v = key(k);
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
  };
  const tokens = g.metadata["tokenizer.ggml.tokens"];
  const embd = g.tensors.find((t) => t.name === "token_embd.weight");
  const cfg: Record<string, unknown> = {
    model_type: archName === "gpt2" ? "gpt2" : archName === "bert" ? "bert" : archName,
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
  const arch = archFromConfig(cfg);
  let parameters = 0;
  let weightBytes = 0;
  const storedTypes: Record<string, number> = {};
  for (const t of g.tensors) {
    parameters += t.elements;
    weightBytes += t.bytes;
    storedTypes[t.typeName] = (storedTypes[t.typeName] ?? 0) + t.bytes;
  }
  return { file: basename(path), format: "gguf", arch, parameters, weightBytes, storedTypes, warnings: [] };
}
