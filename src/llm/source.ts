/**
 * What a user has in hand for an LLM, read into one description: a model hub folder (config.json plus
 * safetensors headers, sharded or not), a bare config.json, or a GGUF file. Weights are never read: only
 * the safetensors JSON headers and the GGUF header.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ModelFormatError } from "../errors.js";
import { fileRole } from "../formats/classify.js";
import { readGguf } from "../formats/gguf.js";
import { readSafetensorsHeader, shardsOfIndex, type SafetensorsTensor } from "../formats/safetensors.js";
import { FileSource } from "../formats/source-node.js";
import { parseJson } from "../formats/json.js";
import { readRegularText } from "../formats/read-file.js";
import { describeGguf, describeHub, type LlmSource } from "./describe.js";

/** config.json is small; a larger one is not a config. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** model.safetensors.index.json: a weight_map of a few thousand tensors, a few hundred kB. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export type { LlmSource } from "./describe.js";

/** A hub folder (it holds a config.json), or a file formats/classify.ts names as a part of a checkpoint or GGUF. */
export function isLlmPath(path: string): boolean {
  if (existsSync(path) && statSync(path).isDirectory()) return existsSync(join(path, "config.json"));
  const role = fileRole(path);
  return role !== undefined && role !== "onnx";
}

function readConfig(path: string): Record<string, unknown> {
  const text = readRegularText(path, MAX_CONFIG_BYTES, "config.json");
  const v = parseJson(text, path);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ModelFormatError(`${path}: not a JSON config (not an object)`);
  return v as Record<string, unknown>;
}

/** Header tensors of a folder's safetensors: the index's shards, or model.safetensors. */
function safetensorsIn(folder: string, warnings: string[]): SafetensorsTensor[] | undefined {
  const index = ["model.safetensors.index.json"].map((f) => join(folder, f)).find(existsSync);
  const files = index ? shardsOfIndex(readRegularText(index, MAX_INDEX_BYTES, "safetensors index"), basename(index)) : existsSync(join(folder, "model.safetensors")) ? ["model.safetensors"] : [];
  if (files.length === 0) return undefined;
  const out: SafetensorsTensor[] = [];
  for (const f of files) {
    const p = join(folder, f);
    if (!existsSync(p)) {
      warnings.push(`shard ${f} is missing: parameter count from config.json`);
      return undefined;
    }
    const src = new FileSource(p, "safetensors");
    try {
      out.push(...readSafetensorsHeader(src).tensors);
    } finally {
      src.close();
    }
  }
  return out;
}

/**
 * Every file openLlm may read for `path` (the path itself, config.json, the safetensors index and every
 * safetensors file beside them): an output may be none of them. Missing ones are listed too (harmless).
 */
export function llmInputFiles(path: string): string[] {
  if (/\.gguf$/i.test(path)) return [path];
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const folder = isDir ? path : dirname(path);
  const out = [path, join(folder, "config.json"), join(folder, "model.safetensors.index.json"), join(folder, "model.safetensors")];
  try {
    for (const f of readdirSync(folder)) if (/\.safetensors$/i.test(f)) out.push(join(folder, f));
  } catch {
    // an unreadable folder: openLlm says so
  }
  return out;
}

export function openLlm(path: string): LlmSource {
  if (!existsSync(path)) throw new ModelFormatError(`cannot read ${path}: ENOENT`);
  if (fileRole(path) === "gguf") return fromGguf(path);
  const isDir = statSync(path).isDirectory();
  const folder = isDir ? path : dirname(path);
  const configPath = isDir ? join(path, "config.json") : /\.json$/i.test(path) && !/index\.json$/i.test(path) ? path : join(folder, "config.json");
  if (!existsSync(configPath)) throw new ModelFormatError(`${path}: no config.json next to it (the architecture comes from there)`);
  const warnings: string[] = [];
  const tensors = safetensorsIn(folder, warnings);
  try {
    return describeHub(readConfig(configPath), basename(tensors ? path : isDir ? configPath : path), tensors, warnings);
  } catch (e) {
    // The file by its own name (gpt2-config.json, model.json), once.
    if (e instanceof ModelFormatError && !e.message.startsWith(configPath)) throw new ModelFormatError(`${configPath}: ${e.message.replace(/^config\.json: /, "")}`);
    throw e;
  }
}

function fromGguf(path: string): LlmSource {
  const src = new FileSource(path, "GGUF file");
  try {
    return describeGguf(readGguf(src), basename(path));
  } finally {
    src.close();
  }
}
