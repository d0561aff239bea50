/** Which runtimes take which kind of model: the runtime table's `sources`, checked before any estimate. */
import type { SourceKind } from "../contract/source.js";
import { UsageError } from "../errors.js";
import { findRuntime } from "../memory/runtimes.js";
import { DEFAULT_RUNTIME } from "./settings.js";

const KIND_NAMES: Record<SourceKind, string> = { onnx: "ONNX graphs", transformer: "config.json/safetensors models", gguf: "GGUF files" };

/** The runtime's id (the kind's default when none is chosen); refused, with the kinds it does take, when it cannot estimate this kind of source. */
export function runtimeFor(kind: SourceKind, id: string | undefined): string {
  const runtime = findRuntime(id ?? DEFAULT_RUNTIME[kind]);
  if (!runtime.sources.includes(kind)) {
    throw new UsageError(`--runtime ${runtime.id}: ${KIND_NAMES[kind]} are not estimated for it (it takes ${runtime.sources.map((k) => KIND_NAMES[k]).join(", ")})`);
  }
  return runtime.id;
}
