/**
 * The kinds of model memlens reads (pipeline/source.ts ModelSource): an ONNX graph, a transformer architecture
 * (config.json with or without safetensors headers), a GGUF file. Here, below the runtime profiles, so that each
 * profile can declare which kinds it accepts (memory/runtimes.ts).
 */
export type SourceKind = "onnx" | "transformer" | "gguf";

export const SOURCE_KINDS: readonly SourceKind[] = ["onnx", "transformer", "gguf"];
