/**
 * What a user hands memlens, as one union: an ONNX graph, a transformer architecture (config.json, with or
 * without its safetensors headers), or a GGUF file. formats/classify.ts decides which from file names alone,
 * the same way for a path on disk (source-node.ts) and for the files a browser page is given (web/files.ts).
 */
import type { GgufFile } from "../formats/gguf.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import type { Model } from "../graph/ir.js";
import { describeGguf, type LlmSource } from "../llm/describe.js";

export type { SourceKind } from "../contract/source.js";

export type ModelSource =
  /** `warnings`: what could not be read with it (external data not chosen in the browser), for the report. */
  | { kind: "onnx"; model: Model; openExternal?: ExternalOpener; warnings: string[] }
  | { kind: "transformer"; llm: LlmSource }
  /** `gguf`: the header (tensors and metadata, weights never read) and the file's size. */
  | { kind: "gguf"; file: string; header: GgufFile; fileBytes: number };

export type OnnxSource = Extract<ModelSource, { kind: "onnx" }>;
export type ArchitectureSource = Extract<ModelSource, { kind: "transformer" }>;
export type GgufSource = Extract<ModelSource, { kind: "gguf" }>;

/** The file's name as shown in reports. */
export function sourceName(s: ModelSource): string {
  return s.kind === "onnx" ? s.model.file : s.kind === "gguf" ? s.file : s.llm.file;
}

/**
 * A GGUF run as its architecture's eager program (--runtime pytorch-cuda): its metadata read as a config.json.
 * Described only on that path: llama.cpp runs architectures the eager model does not know (gemma2, phi3...).
 */
export function eagerSource(s: ArchitectureSource | GgufSource): ArchitectureSource {
  return s.kind === "gguf" ? { kind: "transformer", llm: describeGguf(s.header, s.file) } : s;
}
