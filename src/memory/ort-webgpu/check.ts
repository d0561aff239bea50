/**
 * The `ort-webgpu` runtime profile: a static check, no GPU needed, of onnxruntime-web's WebGPU execution
 * provider against WebGPU's per-buffer limits (limits.ts).
 *
 * What the EP puts in one buffer, read from onnxruntime's source (core/providers/webgpu/buffer_manager.cc,
 * allocator.cc; the same rule as the older JSEP's gpu-data-manager.ts): every tensor its allocator hands out
 * is one GPUBuffer of the tensor's bytes rounded up to 16 (NormalizeBufferSize); each initializer is uploaded
 * into its own buffer; intermediate tensors get theirs from the same allocator (onnxruntime-web turns the
 * memory pattern off for WebGPU, so there is no shared block). A shader binds each input and output whole, so
 * every buffer must fit both maxBufferSize and maxStorageBufferBindingSize (binding one tensor through several
 * bindings, onnxruntime#25962, was closed unmerged). The graph is the one ORT runs (src/memory/ort/graph.ts,
 * no NCHWc): constant folding's outputs (gpt2's Transpose of the tied embedding) are initializers too.
 */
import type { MemoryInput, MemoryResult, RuntimeProfile } from "../profile.js";
import { RUNTIME_SPECS } from "../runtime-table.js";
import { inferModel, type InferenceResult } from "../../shapes/engine.js";
import { onnxTensorValues } from "../../formats/onnx/values.js";
import { buildOrtGraph, type OrtGraph } from "../ort/graph.js";
import { byteSize, type DType } from "../../graph/dtype.js";
import { evaluate, symbolsOf, type Dim } from "../../sym/expr.js";
import { WEBGPU_PRESETS, type WebGpuLimits } from "./limits.js";
import { elementCount } from "../../graph/element-count.js";

const BUFFER_ALIGN = 16;

export interface GpuBuffer {
  name: string;
  bytes: number;
  kind: "weight" | "activation";
  dtype: DType | undefined;
}

export interface WebGpuCheck {
  limits: WebGpuLimits;
  largestBuffer: { name: string; bytes: number; kind: GpuBuffer["kind"] };
  fits: boolean;
  /** Buffers over the effective limit, largest first. */
  over: { name: string; bytes: number }[];
  fix: string;
}

const normalized = (bytes: number) => Math.ceil(bytes / BUFFER_ALIGN) * BUFFER_ALIGN;

/** Every buffer the EP allocates: the constants ORT holds, and each tensor a node produces. */
export function gpuBuffers(graph: OrtGraph, input: MemoryInput): GpuBuffer[] {
  const { model, inference, bindings } = input;
  const out: GpuBuffer[] = [];
  const used = new Set<string>();
  for (const n of graph.nodes) n.inputs.forEach((x) => x !== "" && used.add(x));
  for (const name of graph.constants) {
    if (!used.has(name)) continue;
    const t = model.graph.initializers.get(name);
    const v = inference.values.get(name);
    const bytes = t ? t.bytes : valueBytes(inference, name, bindings);
    out.push({ name, bytes: normalized(bytes), kind: "weight", dtype: t?.dtype ?? v?.dtype });
  }
  for (const n of graph.nodes) {
    for (const o of n.outputs) {
      if (o === "") continue;
      const t = graph.tensors.get(o);
      out.push({ name: o, bytes: normalized(t?.bytes ?? 0), kind: "activation", dtype: t?.dtype });
    }
  }
  return out;
}

function valueBytes(inference: InferenceResult, name: string, bindings: Record<string, number>): number {
  const v = inference.values.get(name);
  if (!v?.shape || !v.dtype) return 0;
  const dims = v.shape.map((d) => evaluate(d, bindings));
  return dims.every((d): d is number => typeof d === "number") ? byteSize(v.dtype, elementCount(dims)) : 0;
}

export function checkWebGpu(input: MemoryInput, limits: WebGpuLimits): { check: WebGpuCheck; graph: OrtGraph; buffers: GpuBuffer[] } {
  const graph = buildOrtGraph(input.model, input.inference, input.bindings, { nchwcBlock: 0 });
  const buffers = gpuBuffers(graph, input).sort((a, b) => b.bytes - a.bytes);
  const limit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const largest = buffers[0] ?? { name: "", bytes: 0, kind: "activation" as const, dtype: undefined };
  const over = buffers.filter((b) => b.bytes > limit).map((b) => ({ name: b.name, bytes: b.bytes }));
  const fits = over.length === 0;
  const fix = fits ? "" : smallestFix(buffers, limit, input, graph);
  return { check: { limits, largestBuffer: { name: largest.name, bytes: largest.bytes, kind: largest.kind }, fits, over, fix }, graph, buffers };
}

const FLOAT_BYTES: Partial<Record<DType, number>> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

/**
 * The smallest change that brings every buffer under the limit, computed from the bytes: weights are stored
 * in fewer bits (fp16, then int8 and int4 with `memlens quantize`), sized on the largest weight over the limit;
 * activations shrink with a smaller value of a dimension they depend on (the largest value at which every
 * activation fits, found by re-inferring the shapes) or in fp16. External data does not help: it changes where
 * the file keeps a weight, not the buffer the weight is uploaded to.
 */
export function smallestFix(buffers: readonly GpuBuffer[], limit: number, input: MemoryInput, graph: OrtGraph): string {
  const parts: string[] = [];
  const weight = buffers.find((b) => b.kind === "weight" && b.bytes > limit);
  if (weight) {
    const smaller = fewerBits(weight, limit, true);
    parts.push(`weight '${weight.name}' (${weight.bytes} bytes): ${smaller ?? "no smaller type fits; split it in the model"}`);
  }
  const act = buffers.find((b) => b.kind === "activation" && b.bytes > limit);
  if (act) {
    const options: string[] = [];
    for (const [sym, value] of Object.entries(input.bindings)) {
      const fitting = largestFitting(graph, sym, value, limit, input);
      if (fitting !== undefined) options.push(`${sym} ${fitting} or less (now ${value})`);
    }
    const half = fewerBits(act, limit, false);
    if (half) options.push(`run it in ${half}`);
    parts.push(`activation '${act.name}' (${act.bytes} bytes): ${options.join(", or ") || "no smaller input or type fits; split it in the model"}`);
  }
  return `${parts.join("; ")} (limit ${limit} bytes)`;
}


/** The first of fp16, int8, int4 (int8/int4 for weights only: memlens quantize) that fits, with its bytes. */
function fewerBits(b: GpuBuffer, limit: number, isWeight: boolean): string | undefined {
  const elemBytes = b.dtype ? FLOAT_BYTES[b.dtype] : undefined;
  if (!elemBytes) return undefined;
  const tries = [
    { bits: 16, how: "fp16" },
    ...(isWeight ? [{ bits: 8, how: "int8 (memlens quantize MODEL --bits 8)" }, { bits: 4, how: "int4 (memlens quantize MODEL --bits 4; MatMul/Gemm weights)" }] : []),
  ];
  for (const t of tries) {
    if (t.bits >= elemBytes * 8) continue;
    const bytes = normalized(Math.ceil(((b.bytes / elemBytes) * t.bits) / 8));
    if (bytes <= limit) return `${t.how}, ${bytes} bytes`;
  }
  return undefined;
}

/**
 * The largest value of `sym` below `now` at which every activation fits, by bisection; each probe infers the
 * shapes again with that value (the declared input shapes, the other symbols as they are). Undefined when no
 * input depends on `sym`, or when even 1 does not fit.
 */
function largestFitting(graph: OrtGraph, sym: string, now: number, limit: number, input: MemoryInput): number | undefined {
  const inputs: Record<string, Dim[]> = {};
  for (const vi of input.model.graph.inputs) {
    if (input.model.graph.initializers.has(vi.name) || vi.type.kind !== "tensor" || !vi.type.shape) continue;
    inputs[vi.name] = vi.type.shape;
  }
  if (!Object.values(inputs).some((shape) => shape.some((d) => symbolsOf(d).has(sym)))) return undefined;
  const bytesAt = (v: number): number => {
    const bindings = { ...input.bindings, [sym]: v };
    const r = inferModel(input.model, { inputs, bindings, trustDeclared: true, tensorValues: onnxTensorValues() });
    let largest = 0;
    for (const n of graph.nodes) for (const o of n.outputs) if (o !== "") largest = Math.max(largest, normalized(valueBytes(r, o, bindings)));
    return largest;
  };
  if (now <= 1 || bytesAt(1) > limit || bytesAt(1) === bytesAt(now)) return undefined;
  let lo = 1;
  let hi = now;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (bytesAt(mid) <= limit) lo = mid;
    else hi = mid;
  }
  return lo;
}

export const ortWebGpuProfile: RuntimeProfile = {
  ...RUNTIME_SPECS["ort-webgpu"],
  estimate(input: MemoryInput): MemoryResult {
    const limits = input.settings.webgpuLimits ?? WEBGPU_PRESETS["default"]!;
    const { check, graph, buffers } = checkWebGpu(input, limits);
    const warnings = graph.warnings.map((w) => w.replace(/^ort-cpu:/, "ort-webgpu:"));
    if (!check.fits) warnings.push(`ort-webgpu: ${check.over.length} buffer${check.over.length > 1 ? "s" : ""} over the adapter's limit; ${check.fix}`);
    const weights = buffers.filter((b) => b.kind === "weight").reduce((a, b) => a + b.bytes, 0);
    const inputs = graph.inputs.reduce((a, n) => a + (graph.tensors.get(n)?.bytes ?? 0), 0);
    const outputs = graph.outputs.reduce((a, n) => a + (graph.tensors.get(n)?.bytes ?? 0), 0);
    return {
      memory: {
        weights,
        inputs,
        outputs,
        activationPeak: 0,
        workspace: 0,
        peakAllocated: 0,
        peakReserved: 0,
        runtimeOverhead: 0,
        total: weights + inputs,
        peakAt: { layer: "", live: [] },
        perBatch: { formula: "not modelled: ort-webgpu checks buffer limits, not the GPU's total memory" },
        webgpu: {
          limits: check.limits,
          largestBuffer: { name: check.largestBuffer.name, bytes: check.largestBuffer.bytes },
          fits: check.fits,
          fix: check.fix,
          over: check.over.slice(0, 10),
        },
        assumptions: [
          "a static check of onnxruntime-web's WebGPU provider: one GPUBuffer per tensor and per weight, bytes rounded up to 16 (buffer_manager.cc)",
          `limits: ${check.limits.source}`,
          "total GPU memory is not modelled (WebGPU reports no device memory); activations are summed only as buffers, not simulated",
        ],
      },
      timeline: [],
      warnings,
    };
  },
};
