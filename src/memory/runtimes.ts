/**
 * The only list of runtime profiles. A runtime is chosen by `--runtime ID`; adding one is one line here.
 */
import { UsageError } from "../errors.js";
import type { RuntimeProfile } from "./profile.js";
import { ortCpuProfile } from "./ort/estimate.js";
import { pytorchCuda } from "./torch/pytorch-cuda.js";
import { ortWasmProfile } from "./ort-wasm/estimate.js";
import { ortWebGpuProfile } from "./ort-webgpu/check.js";
import { llamaCppProfile } from "./llamacpp/profile.js";

export const RUNTIMES: readonly RuntimeProfile[] = [pytorchCuda, ortCpuProfile, ortWasmProfile, ortWebGpuProfile, llamaCppProfile];

export function findRuntime(id: string): RuntimeProfile {
  const found = RUNTIMES.find((r) => r.id === id);
  if (!found) {
    const known = RUNTIMES.map((r) => r.id).join(", ") || "none yet";
    throw new UsageError(`--runtime ${id}: no memory profile for this runtime (known: ${known})`);
  }
  return found;
}
