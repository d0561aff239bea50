/**
 * What each runtime accepts: dtypes, modes and the kind of device it runs on. Pure data, so that help text and
 * validation (the CLI, the library, the page) read one table without importing the estimators; each runtime's
 * profile (src/memory/runtimes.ts) spreads its entry, so a runtime cannot accept what its row does not list.
 */
import { UsageError } from "../errors.js";
import { DEVICES, type DeviceKind } from "./devices.js";

import type { SourceKind } from "../contract/source.js";

export interface RuntimeSpec {
  id: string;
  description: string;
  /**
   * `--dtype` values: the cast applied to the model's float tensors (fp32 leaves them as stored). A runtime
   * that runs the file as written lists only fp32: a quantized model is already int8 in its file.
   */
  dtypes: readonly string[];
  modes: readonly string[];
  /** Which rows of the device table (src/memory/devices.ts) it runs on. */
  deviceKinds: readonly DeviceKind[];
  /** What it estimates from: an ONNX graph, an LLM's config.json (hub folder), a GGUF header. */
  sources: readonly SourceKind[];
  /** The device when none is given. */
  defaultDevice: string;
}

export const RUNTIME_SPECS = {
  "pytorch-cuda": {
    id: "pytorch-cuda",
    description: "eager PyTorch on a CUDA GPU: caching allocator, cuBLAS/cuDNN workspaces, CUDA context",
    // model.to(dtype) casts floats only; int8 in PyTorch is a quantized model, not a cast (see 'memlens quantize').
    dtypes: ["fp32", "fp16", "bf16"],
    modes: ["inference", "train"],
    deviceKinds: ["cuda"],
    // A transformer architecture or GGUF file runs as the architecture's eager program (src/llm).
    sources: ["onnx", "transformer", "gguf"],
    defaultDevice: "h100",
  },
  "ort-cpu": {
    id: "ort-cpu",
    description: "ONNX Runtime CPU provider (onnxruntime-node defaults: all graph optimizations, BFC arena, memory pattern)",
    // ORT runs the types the file holds (fp16 models through inserted casts): there is no cast to choose.
    dtypes: ["fp32"],
    modes: ["inference"],
    deviceKinds: ["cpu"],
    sources: ["onnx"],
    defaultDevice: "cpu",
  },
  "ort-wasm": {
    id: "ort-wasm",
    description: "onnxruntime-web's wasm backend (CPU provider in WebAssembly: no arena, no memory pattern, no NCHWc; the wasm32 heap, 4 GiB)",
    dtypes: ["fp32"],
    modes: ["inference"],
    deviceKinds: ["cpu"],
    sources: ["onnx"],
    defaultDevice: "cpu",
  },
  "ort-webgpu": {
    id: "ort-webgpu",
    description: "onnxruntime-web's WebGPU provider: each tensor and weight in one GPU buffer, checked against the adapter's maxBufferSize and maxStorageBufferBindingSize (--webgpu-limits)",
    dtypes: ["fp32"],
    modes: ["inference"],
    // The device table has no WebGPU adapters: --webgpu-limits describes one, and the page's host is the device.
    deviceKinds: ["cpu"],
    sources: ["onnx"],
    defaultDevice: "cpu",
  },
  "llama.cpp": {
    id: "llama.cpp",
    description: "llama.cpp (GGUF files): every buffer it allocates per device, the default for .gguf",
    // The GGUF's own tensor types run (no cast); llama.cpp's -ctk/-ctv choose the KV cache's.
    dtypes: ["fp32"],
    modes: ["inference"],
    // The CPU, and CUDA GPUs for the layers -ngl offloads.
    deviceKinds: ["cpu", "cuda"],
    sources: ["gguf"],
    defaultDevice: "cpu",
  },
} as const satisfies Record<string, RuntimeSpec>;

export type RuntimeId = keyof typeof RUNTIME_SPECS;

export const RUNTIME_IDS = Object.keys(RUNTIME_SPECS) as RuntimeId[];

/** Every mode some runtime runs; `generate` is the LLM architecture model's (src/llm/), not a runtime profile's. */
export const MODES = ["inference", "train", "generate"] as const;

/** Every dtype some runtime accepts, in table order. */
export const ALL_DTYPES: readonly string[] = [...new Set(Object.values(RUNTIME_SPECS).flatMap((r) => [...r.dtypes]))];

export function runtimeSpec(id: string): RuntimeSpec {
  const spec = (RUNTIME_SPECS as Record<string, RuntimeSpec>)[id];
  if (!spec) throw new UsageError(`--runtime ${id}: unknown runtime (runtimes: ${RUNTIME_IDS.join(", ")})`);
  return spec;
}

export function devicesFor(spec: RuntimeSpec): string[] {
  return DEVICES.filter((d) => spec.deviceKinds.includes(d.kind)).map((d) => d.id);
}

export interface RuntimeChoice {
  runtime: string;
  dtype: string;
  mode: string;
  device: string;
}

/**
 * The settings a runtime runs, defaults filled; a pair the runtime does not support is one UsageError naming
 * what it does support.
 */
export function checkRuntimeChoice(c: Partial<RuntimeChoice>): RuntimeChoice {
  const spec = runtimeSpec(c.runtime ?? "pytorch-cuda");
  if (!spec.sources.includes("onnx")) throw new UsageError(`--runtime ${spec.id} runs ${spec.sources.join(", ")} files, not an ONNX graph (ONNX graphs: ${RUNTIME_IDS.filter((id) => runtimeSpec(id).sources.includes("onnx")).join(", ")})`);
  const dtype = c.dtype ?? "fp32";
  const mode = c.mode ?? "inference";
  const device = c.device ?? spec.defaultDevice;
  if (!spec.dtypes.includes(dtype)) {
    const why = spec.id.startsWith("ort-") ? " (it runs the types the file holds; quantize a model with 'memlens quantize')" : dtype === "int8" ? " (int8 is a quantized model: 'memlens quantize', then --runtime ort-cpu)" : "";
    throw new UsageError(`--dtype ${dtype}: ${spec.id} runs ${spec.dtypes.join(", ")}${why}`);
  }
  if (!spec.modes.includes(mode)) {
    const why = mode === "generate" ? " (generate is for LLMs given as a hub folder, config.json, safetensors or GGUF)" : "";
    throw new UsageError(`--mode ${mode}: ${spec.id} runs ${spec.modes.join(", ")}${why}`);
  }
  const devices = devicesFor(spec);
  if (!devices.includes(device)) {
    const known = DEVICES.some((d) => d.id === device) ? "" : "unknown device; ";
    throw new UsageError(`--device ${device}: ${known}${spec.id} runs on ${devices.join(", ")}`);
  }
  return { runtime: spec.id, dtype, mode, device };
}
