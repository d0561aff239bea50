/**
 * GPU memory of a hub transformer in eager PyTorch, from its architecture alone: the forward (or generation)
 * program runs through the caching allocator simulation, and the device table adds the CUDA context.
 * Validated against ../shared/groundtruth (bert-base, gpt2 on an H200): see bench/llm-accuracy.ts.
 */
import { UsageError } from "../errors.js";
import { findDevice, cublasWorkspaceBytes, DEVICES, type Device } from "../memory/devices.js";
import { simulate, type SimulationResult } from "../memory/torch/simulate.js";
import type { EagerProgram } from "../memory/torch/eager.js";
import type { Layer, MemoryReport, Report, TimelinePoint } from "../report/report.js";
import { SCHEMA } from "../report/report.js";
import type { ArchSpec } from "./arch.js";
import { forwardProgram, generateProgram, type AttnImpl } from "./program.js";
import type { LlmSource } from "./source.js";

export interface LlmSettings {
  batch: number;
  seq: number;
  dtype: "fp32" | "fp16" | "bf16";
  device: string;
  mode: "inference" | "generate";
  newTokens: number;
  attn: AttnImpl;
}

const ELEM: Record<LlmSettings["dtype"], number> = { fp32: 4, fp16: 2, bf16: 2 };

export function llmDevice(id: string): Device {
  const d = findDevice(id);
  if (!d || d.computeCapability.value === null) {
    throw new UsageError(`--device ${id}: pytorch-cuda needs a CUDA device (${DEVICES.filter((x) => x.computeCapability.value !== null).map((x) => x.id).join(", ")})`);
  }
  return d;
}

export interface LlmEstimate {
  program: EagerProgram;
  sim: SimulationResult;
  memory: MemoryReport;
  timeline: TimelinePoint[];
  /** KV cache at the end of generation (0 for a plain forward). */
  kvCache: number;
}

/** KV cache bytes: 2 (K and V) x layers x kv_heads x head_dim x tokens x batch x dtype bytes. */
export function kvCacheBytes(a: ArchSpec, batch: number, tokens: number, elem: number): number {
  return 2 * a.layers * a.kvHeads * a.headDim * tokens * batch * elem;
}

export function estimateLlm(a: ArchSpec, s: LlmSettings, capacity?: number): LlmEstimate {
  const device = llmDevice(s.device);
  const elem = ELEM[s.dtype];
  if (s.seq > a.maxPositions && a.family !== "llama") {
    throw new UsageError(`--dim seq=${s.seq}: ${a.modelType} has ${a.maxPositions} positions`);
  }
  const program =
    s.mode === "generate"
      ? generateProgram(a, { batch: s.batch, prompt: s.seq, newTokens: s.newTokens, elem, attn: s.attn })
      : forwardProgram(a, { batch: s.batch, seq: s.seq, elem, attn: s.attn, logitsForAll: true });
  const cublas = cublasWorkspaceBytes(device.computeCapability.value!);
  const sim = simulate(program, {
    workspace: () => 0,
    cublasWorkspace: cublas,
    deleteOutputs: true,
    ...(capacity !== undefined ? { capacity } : {}),
  });
  const context = device.contextLazy.value + (sim.usesCublas ? device.librariesLazy.cublas.value : 0);
  const weights = program.weights.reduce((x, y) => x + y, 0);
  const peakOp = sim.liveness.peakStep >= 0 ? program.ops[sim.liveness.peakStep] : undefined;
  const total = context + sim.peakReserved;
  const kvCache = s.mode === "generate" ? kvCacheBytes(a, s.batch, s.seq + s.newTokens - 1, elem) : 0;
  const memory: MemoryReport = {
    weights,
    inputs: program.inputBytes,
    outputs: program.outputBytes,
    activationPeak: sim.activationPeak,
    workspace: sim.usesCublas ? cublas : 0,
    peakAllocated: sim.peakAllocated,
    peakReserved: sim.peakReserved,
    runtimeOverhead: context,
    total,
    peakAt: { layer: peakOp?.layer ?? "", live: sim.liveness.liveAtPeak },
    perBatch: { fixed: 0, perSample: 0 },
    kvCache,
  };
  const timeline = program.ops.map((op, i) => ({ layer: op.layer, liveBytes: sim.liveness.timeline[i] ?? 0 }));
  return { program, sim, memory, timeline, kvCache };
}

/** The report for an LLM source: same contract as an ONNX analysis; layers are the eager ops. */
export function llmReport(src: LlmSource, s: LlmSettings): Report {
  const e = estimateLlm(src.arch, s);
  // perBatch from two batch sizes: the program is linear in the batch up to allocator rounding.
  const e1 = s.batch === 1 ? e : estimateLlm(src.arch, { ...s, batch: 1 });
  const e2 = estimateLlm(src.arch, { ...s, batch: 2 });
  const perSample = e2.memory.total - e1.memory.total;
  e.memory.perBatch = { fixed: e1.memory.total - perSample, perSample };
  const layers: Layer[] = e.program.ops.map((op) => ({
    name: op.layer,
    op: op.opTypes[0] ?? "",
    outputs: op.allocs.map((al) => ({ name: al.id, shape: null, dtype: s.dtype, bytes: al.bytes })),
    paramBytes: 0,
    flops: null,
  }));
  const a = src.arch;
  return {
    schema: SCHEMA,
    model: {
      file: src.file,
      format: src.format,
      producer: `${a.modelType} (${a.layers} layers, hidden ${a.hidden}, ${a.heads} heads / ${a.kvHeads} kv)`,
      opsets: {},
      nodes: e.program.ops.length,
      parameters: src.parameters,
      weightBytes: src.weightBytes ?? src.parameters * ELEM[s.dtype],
    },
    settings: {
      batch: s.batch,
      inputs: { input_ids: [s.batch, s.seq] },
      dtype: s.dtype,
      runtime: "pytorch-cuda",
      device: s.device,
      mode: s.mode,
      dims: { batch: s.batch, seq: s.seq },
    },
    layers,
    memory: e.memory,
    timeline: e.timeline,
    warnings: [...src.warnings, `attention implementation: ${s.attn}`],
  };
}
