/**
 * What the MODEL argument names, decided by what is there, not by its name: a folder opens its model (a hub
 * folder's config.json, its one .onnx or .gguf) or names the files it holds; a file is read by its first bytes
 * (src/formats/recognise.ts), so `gpt2-config.json` is a config and a PNG is named as an image.
 */
import { closeSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ModelFormatError } from "../errors.js";
import { ACCEPTED, KIND_NAMES, recognise } from "../formats/recognise.js";
import { openRegularFile, readRange } from "../formats/read-file.js";

export type ModelPath = { kind: "onnx"; path: string } | { kind: "llm"; path: string };

/** A folder listing in a message: the first few names. */
const LISTED = 8;

export function resolveModelPath(path: string): ModelPath {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ModelFormatError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st.isDirectory()) return inFolder(path);
  const kind = recognise(head(path));
  if (kind === "onnx-or-unknown") return { kind: "onnx", path };
  if (kind === "gguf" || kind === "safetensors" || kind === "json") return { kind: "llm", path };
  throw new ModelFormatError(`${path} is ${KIND_NAMES[kind]}, not a model (${ACCEPTED})`);
}

function inFolder(folder: string): ModelPath {
  const names = readdirSync(folder).sort();
  if (names.includes("config.json")) return { kind: "llm", path: folder };
  const onnx = names.filter((n) => /\.onnx$/i.test(n));
  const gguf = names.filter((n) => /\.gguf$/i.test(n));
  const models = [...onnx, ...gguf];
  if (models.length === 1) {
    const only = join(folder, models[0]!);
    return onnx.length === 1 ? { kind: "onnx", path: only } : { kind: "llm", path: only };
  }
  const listed = (list: string[]): string => list.slice(0, LISTED).join(", ") + (list.length > LISTED ? `, ... (${list.length} in all)` : "");
  if (models.length > 1) throw new ModelFormatError(`${folder} is a folder with ${models.length} models (${listed(models)}): name one`);
  const found = names.length > 0 ? `it holds ${listed(names)}` : "it is empty";
  throw new ModelFormatError(`${folder} is a folder with no model: ${found} (${ACCEPTED})`);
}

/** The first bytes, through the one safe open (a FIFO or a device is refused there, not read). */
function head(path: string): Uint8Array {
  const { fd, size } = openRegularFile(path, "model");
  try {
    return readRange(fd, 0, Math.min(64, size), path);
  } finally {
    closeSync(fd);
  }
}
