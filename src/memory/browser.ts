/**
 * "Runs in the browser?": the same model and settings through onnxruntime-web's two backends, side by side
 * with whatever runtime the report is for: the wasm heap against the wasm32 limit (ort-wasm), and every GPU
 * buffer against the adapter's limits (ort-webgpu; the page passes the limits its own adapter reports).
 */
import type { MemoryInput } from "./profile.js";
import { ortWasmProfile } from "./ort-wasm/estimate.js";
import { ortWebGpuProfile } from "./ort-webgpu/check.js";
import type { BrowserCheck } from "../contract/report.js";
import type { WebGpuLimits } from "./ort-webgpu/limits.js";

export type { BrowserCheck } from "../contract/report.js";

export function browserCheck(input: MemoryInput, limits: WebGpuLimits | undefined): BrowserCheck {
  const settings = { ...input.settings, device: "cpu", mode: "inference" };
  const wasm = ortWasmProfile.estimate({ ...input, settings }).memory;
  const gpu = ortWebGpuProfile.estimate({ ...input, settings: { ...settings, ...(limits ? { webgpuLimits: limits } : {}) } }).memory;
  return {
    wasm: { afterLoad: wasm["afterLoad"] as number, afterRun1: wasm.afterRun1 ?? 0, afterRun2: wasm.afterRun2 ?? 0, needed: wasm.peakAllocated, limit: wasm["limit"] as BrowserCheck["wasm"]["limit"] },
    webgpu: gpu["webgpu"] as BrowserCheck["webgpu"],
  };
}
