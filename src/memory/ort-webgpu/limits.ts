/**
 * WebGPU's per-buffer limits: `maxBufferSize` (one GPUBuffer) and `maxStorageBufferBindingSize` (one storage
 * binding: a compute shader sees a tensor through one). An adapter reports its own; a device gets the spec's
 * defaults unless it asks for more, and onnxruntime-web asks for the adapter's (requiredLimits from
 * adapter.limits when it creates its device). Presets are reported values, each with where it was reported.
 */
import { UsageError } from "../../errors.js";

import type { WebGpuLimits } from "../../contract/report.js";

export type { WebGpuLimits } from "../../contract/report.js";

const MIB = 1 << 20;

export const WEBGPU_PRESETS: Readonly<Record<string, WebGpuLimits>> = {
  default: {
    maxBufferSize: 256 * MIB,
    maxStorageBufferBindingSize: 128 * MIB,
    source: "WebGPU spec default limits (W3C WebGPU, 'Limits': maxBufferSize 268435456, maxStorageBufferBindingSize 134217728)",
  },
  "1gib": {
    maxBufferSize: 1024 * MIB,
    maxStorageBufferBindingSize: 1024 * MIB,
    source: "an adapter with a 1 GiB buffer limit (onnxruntime#25195: 'Buffer size (3185049600) exceeds the max buffer size limit (1073741824)'); binding limit taken equal",
  },
  "qualcomm-x1e80100": {
    maxBufferSize: 256 * MIB,
    maxStorageBufferBindingSize: 256 * MIB,
    source: "Qualcomm Snapdragon X Elite X1E80100 (onnxruntime#25962: maxStorageBufferBindingSize 256 MB); maxBufferSize taken equal",
  },
  swiftshader: {
    maxBufferSize: 1024 * MIB,
    maxStorageBufferBindingSize: 1024 * MIB,
    source: "SwiftShader's WebGPU adapter in Debian's chromium 156, measured here (bench/groundtruth/ort-web1.30.0-webgpu-swiftshader.json)",
  },
  "4gib": {
    maxBufferSize: 4096 * MIB,
    maxStorageBufferBindingSize: 4096 * MIB,
    source: "a desktop adapter reporting maxBufferSize 4294967296 (apple/embedding-atlas#159, Chrome); binding limit not reported, taken equal",
  },
};

export const WEBGPU_PRESET_NAMES = Object.keys(WEBGPU_PRESETS);

/** `--webgpu-limits` given as JSON text: GPUSupportedLimits as a page prints it, or {maxBufferSize, ...}. */
export function parseWebGpuLimits(text: string, from: string): WebGpuLimits {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--webgpu-limits ${from}: not JSON (expected {"maxBufferSize": N, "maxStorageBufferBindingSize": N})`);
  }
  const o = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const limits = (typeof o["limits"] === "object" && o["limits"] !== null ? o["limits"] : o) as Record<string, unknown>;
  const num = (k: string): number => {
    const v = limits[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) throw new UsageError(`--webgpu-limits ${from}: ${k} must be a positive integer`);
    return v;
  };
  const source = typeof o["source"] === "string" ? (o["source"] as string) : from;
  return { maxBufferSize: num("maxBufferSize"), maxStorageBufferBindingSize: num("maxStorageBufferBindingSize"), source };
}

export function webGpuPreset(name: string): WebGpuLimits | undefined {
  return Object.hasOwn(WEBGPU_PRESETS, name) ? WEBGPU_PRESETS[name] : undefined;
}
