/**
 * Which kind of model a file, or a set of files, is, from the names alone (pure: no file is opened). The Node
 * opener (pipeline/source-node.ts, llm/source.ts) and the web page (web/files.ts) share it, so a folder on disk
 * and the same files dropped on the page are read the same way.
 */
import { ModelFormatError } from "../errors.js";

/** What one file is, by its name: the model itself, or a part of a transformer checkpoint. */
export type FileRole = "onnx" | "gguf" | "config" | "safetensors" | "safetensors-index";

export function fileRole(name: string): FileRole | undefined {
  if (/\.onnx$/i.test(name)) return "onnx";
  if (/\.gguf$/i.test(name)) return "gguf";
  if (/\.safetensors\.index\.json$/i.test(name)) return "safetensors-index";
  if (/\.safetensors$/i.test(name)) return "safetensors";
  if (/(^|[/\\])config\.json$/i.test(name)) return "config";
  return undefined;
}

export type Classified =
  | { kind: "onnx"; model: string; others: string[] }
  | { kind: "gguf"; file: string }
  /** `safetensors`: the weight files given with the config (their headers give the exact parameters). */
  | { kind: "transformer"; config: string; safetensors: string[] };

/**
 * Which model a set of files is: an ONNX file (the others are its external data), else a GGUF file, else a
 * config.json (or, failing that, any other JSON but a shard index) with the safetensors beside it. A file of no
 * known kind is read as ONNX, whose reader says precisely why it is not a model.
 */
export function classify(names: readonly string[]): Classified {
  const onnx = names.find((n) => fileRole(n) === "onnx");
  if (onnx !== undefined) return { kind: "onnx", model: onnx, others: names.filter((n) => n !== onnx) };
  const gguf = names.find((n) => fileRole(n) === "gguf");
  if (gguf !== undefined) return { kind: "gguf", file: gguf };
  const config = names.find((n) => fileRole(n) === "config") ?? names.find((n) => /\.json$/i.test(n) && fileRole(n) !== "safetensors-index");
  const safetensors = names.filter((n) => fileRole(n) === "safetensors");
  if (config !== undefined) return { kind: "transformer", config, safetensors };
  if (safetensors.length > 0) throw new ModelFormatError("a safetensors file holds weights but not the architecture: choose its config.json too");
  const first = names[0];
  if (first === undefined) throw new ModelFormatError("no file chosen");
  return { kind: "onnx", model: first, others: names.slice(1) };
}
