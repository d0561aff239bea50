/** Opening a ModelSource from a path on disk (Node only): an ONNX file, or a transformer checkpoint or GGUF file. */
import { basename } from "node:path";
import { readGguf } from "../formats/gguf.js";
import { recognise } from "../formats/recognise.js";
import { FileSource } from "../formats/source-node.js";
import { loadModelFile } from "../formats/load-node.js";
import { isLlmPath, openLlm } from "../llm/source.js";
import type { GgufSource, ModelSource } from "./source.js";

/**
 * `llm`: the caller already knows it is a transformer or GGUF (the CLI reads a file's first bytes, not its name);
 * a GGUF is told by its magic, whatever its name.
 */
export function openSource(path: string, llm: boolean = isLlmPath(path)): ModelSource {
  if (llm) return isGgufFile(path) ? openGguf(path) : { kind: "transformer", llm: openLlm(path) };
  const loaded = loadModelFile(path);
  return { kind: "onnx", model: loaded.model, openExternal: loaded.openExternal, warnings: [] };
}

/** A GGUF's header, read in windows through the one safe open (a regular file only); the weights are never read. */
export function openGguf(path: string): GgufSource {
  const src = new FileSource(path, "GGUF file");
  try {
    return { kind: "gguf", file: basename(path), header: readGguf(src), fileBytes: src.size };
  } finally {
    src.close();
  }
}

function isGgufFile(path: string): boolean {
  let src: FileSource;
  try {
    src = new FileSource(path, "model");
  } catch {
    return /\.gguf$/i.test(path);
  }
  try {
    return recognise(src.read(0, Math.min(64, src.size))) === "gguf";
  } finally {
    src.close();
  }
}
