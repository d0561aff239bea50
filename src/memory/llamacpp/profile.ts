/**
 * The llama.cpp entry of the runtime table (src/memory/runtimes.ts). llama.cpp runs GGUF files, which carry
 * no ONNX graph: a GGUF goes through the pipeline's own module (src/pipeline/llamacpp.ts, which reads the header
 * into src/memory/llamacpp/report.ts), so the graph-based `estimate` refuses an ONNX model with the reason.
 */
import { UsageError } from "../../errors.js";
import type { RuntimeProfile } from "../profile.js";
import { RUNTIME_SPECS } from "../runtime-table.js";

export const llamaCppProfile: RuntimeProfile = {
  ...RUNTIME_SPECS["llama.cpp"],
  estimate() {
    throw new UsageError("--runtime llama.cpp runs GGUF files (.gguf); an ONNX graph runs on pytorch-cuda or ort-cpu");
  },
};
