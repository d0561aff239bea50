/**
 * The only list of runtime profiles. A runtime is chosen by `--runtime ID`; adding one is its row in
 * src/memory/runtime-table.ts (what it accepts) and its profile here (how it estimates).
 */
import { UsageError } from "../errors.js";
import type { RuntimeProfile } from "./profile.js";
import { ortCpuProfile } from "./ort/estimate.js";
import { pytorchCuda } from "./torch/pytorch-cuda.js";
import { ortWasmProfile } from "./ort-wasm/estimate.js";
import { ortWebGpuProfile } from "./ort-webgpu/check.js";
import { llamaCppProfile } from "./llamacpp/profile.js";
import { RUNTIME_IDS } from "./runtime-table.js";

export const RUNTIMES: readonly RuntimeProfile[] = [pytorchCuda, ortCpuProfile, ortWasmProfile, ortWebGpuProfile, llamaCppProfile];

export function findRuntime(id: string): RuntimeProfile {
  const found = RUNTIMES.find((r) => r.id === id);
  if (!found) throw new UsageError(`--runtime ${id}: no memory profile for this runtime (known: ${RUNTIME_IDS.join(", ")})`);
  return found;
}
