/**
 * The llama.cpp entry of the runtime table (src/memory/runtimes.ts). llama.cpp runs GGUF files, which carry
 * no ONNX graph: its estimate reads the GGUF header (src/memory/llamacpp/report.ts), so the graph-based
 * `estimate` refuses an ONNX model with the reason.
 */
import { UsageError } from "../../errors.js";
import type { RuntimeProfile } from "../profile.js";
import { llamaCppReport } from "./report.js";

export const llamaCppProfile: RuntimeProfile & { sources: readonly string[]; estimateGguf: typeof llamaCppReport } = {
  id: "llama.cpp",
  description: "llama.cpp (GGUF files): every buffer it allocates per device, the default for .gguf",
  sources: ["gguf"],
  estimate() {
    throw new UsageError("--runtime llama.cpp runs GGUF files (.gguf); an ONNX graph runs on pytorch-cuda or ort-cpu");
  },
  estimateGguf: llamaCppReport,
};
