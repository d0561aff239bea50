/**
 * The llama.cpp entry of the runtime table (src/memory/runtimes.ts). llama.cpp runs GGUF files, which carry
 * no ONNX graph: its estimate reads the GGUF header (src/memory/llamacpp/report.ts), so the graph-based
 * `estimate` refuses an ONNX model with the reason.
 */
import { UsageError } from "../../errors.js";
import type { RuntimeProfile } from "../profile.js";
import { RUNTIME_SPECS } from "../runtime-table.js";
import { llamaCppReport } from "./report.js";

export const llamaCppProfile: RuntimeProfile & { estimateGguf: typeof llamaCppReport } = {
  ...RUNTIME_SPECS["llama.cpp"],
  estimate() {
    throw new UsageError("--runtime llama.cpp runs GGUF files (.gguf); an ONNX graph runs on pytorch-cuda or ort-cpu");
  },
  estimateGguf: llamaCppReport,
};
