/**
 * The list of formats that read into a graph IR (graph/ir.ts); each is `{ id, match(head), open(source) }`, and
 * ONNX is the only one so far. Files that describe a transformer without a graph (config.json, safetensors
 * headers, GGUF) are read by formats/safetensors.ts and formats/gguf.ts into an llm/ architecture instead.
 */
import { ModelFormatError } from "../errors.js";
import type { Model } from "../graph/ir.js";
import { onnxFormat } from "./onnx/index.js";
import type { ByteSource } from "./source.js";
import { ACCEPTED, KIND_NAMES, recognise } from "./recognise.js";

export const FORMATS = [onnxFormat] as const;

export function openModel(src: ByteSource, file: string): Model {
  const head = src.read(0, Math.min(64, src.size));
  if (src.size === 0) throw new ModelFormatError("empty file");
  for (const f of FORMATS) if (f.match(head)) return f.open(src, file);
  // A file memlens knows by its first bytes is named for what it is, not read as a corrupt protobuf.
  const kind = recognise(head);
  if (kind !== "onnx-or-unknown") {
    const where = kind === "gguf" || kind === "safetensors" || kind === "json" ? " (analyze, layers and fit read it as an LLM)" : "";
    throw new ModelFormatError(`${KIND_NAMES[kind]}, not an ONNX model${where}; ${ACCEPTED}`);
  }
  // Unrecognised first bytes: still try ONNX, whose decode gives the precise reason it is not a model.
  return onnxFormat.open(src, file);
}
