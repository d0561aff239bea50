/** Opening a ModelSource from a path on disk (Node only): an ONNX file, or a transformer checkpoint or GGUF file. */
import { loadModelFile } from "../formats/load-node.js";
import { isLlmPath, openLlm } from "../llm/source.js";
import type { ModelSource } from "./source.js";

/** `llm`: the caller already knows it is a transformer or GGUF (the CLI reads a file's first bytes, not its name). */
export function openSource(path: string, llm: boolean = isLlmPath(path)): ModelSource {
  if (llm) {
    const llm = openLlm(path);
    return llm.format === "gguf" ? { kind: "gguf", llm } : { kind: "transformer", llm };
  }
  const loaded = loadModelFile(path);
  return { kind: "onnx", model: loaded.model, openExternal: loaded.openExternal, warnings: [] };
}
