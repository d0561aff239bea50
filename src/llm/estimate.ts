/**
 * GPU memory of a hub transformer in eager PyTorch, from its architecture alone: the forward (or generation)
 * program runs through the caching allocator simulation, and the device table adds the CUDA context.
 * Validated against bench/groundtruth/h200-torch2.11.json (bert-base, gpt2 on an H200) and the held-out configs measured later
 * (qwen2-0.5b, llama-3.2-1b; bench/groundtruth/gpu-h200-torch2.11-llm.json): see bench/llm-accuracy.ts.
 */
import { UsageError } from "../errors.js";
import { findDevice, cublasWorkspaceBytes, DEVICES, type Device } from "../memory/devices.js";
import { simulate, type SimulationResult } from "../memory/torch/simulate.js";
import type { EagerProgram } from "../memory/torch/eager.js";
import type { Layer, MemoryReport, ModelSummary, Report, Settings, TimelinePoint } from "../contract/report.js";
import { SCHEMA } from "../contract/report.js";
import type { ArchSpec } from "./arch.js";
import { forwardProgram, generateProgram, usesCublasLt, type AttnImpl } from "./program.js";
import type { LlmSource } from "./source.js";

export interface LlmSettings {
  batch: number;
  seq: number;
  dtype: "fp32" | "fp16" | "bf16";
  device: string;
  mode: "inference" | "generate";
  newTokens: number;
  attn: AttnImpl;
  /** generate(min_new_tokens=M) (0 or absent: not set, no logits processor runs). */
  minNewTokens?: number;
  /**
   * The process ran cuBLAS GEMMs before it loaded the model, so the cuBLAS workspace already has its own segment
   * (as in the measurement scripts' warm-up). Absent: the model's first GEMM allocates it, inside the first forward,
   * where it may take a cached activation block. Only segment placement (peakReserved) differs.
   */
  cublasFirst?: boolean;
}

const ELEM: Record<LlmSettings["dtype"], number> = { fp32: 4, fp16: 2, bf16: 2 };

export function llmDevice(id: string): Device {
  const d = findDevice(id);
  if (!d || d.computeCapability.value === null) {
    throw new UsageError(`--device ${id}: pytorch-cuda needs a CUDA device (${DEVICES.filter((x) => x.computeCapability.value !== null).map((x) => x.id).join(", ")})`);
  }
  return d;
}

/**
 * The cuBLASLt workspace: PyTorch's CUBLASLT_WORKSPACE_SIZE default, 1024 KiB, one persistent block per
 * handle and stream, allocated at the first biased Linear (see usesCublasLt). Measured as exactly 1 MiB:
 * qwen2-0.5b's first run in a process that had only run bias-free GEMMs held 1,048,576 bytes more, forward and
 * generate, than the same program without it; every later run in that process matches without it
 * (bench/groundtruth/gpu-h200-torch2.11-llm.json). The ONNX path's pytorch-cuda profile holds the same block.
 */
export const CUBLASLT_WORKSPACE = 1 << 20;

export interface LlmEstimate {
  program: EagerProgram;
  sim: SimulationResult;
  memory: MemoryReport;
  timeline: TimelinePoint[];
  /** KV cache at the end of generation (0 for a plain forward). */
  kvCache: number;
  /** The cuBLASLt workspace this model's biased Linears allocate (0 when it has none); in `memory.workspace`. */
  cublasLtWorkspace: number;
}

/** KV cache bytes: 2 (K and V) x layers x kv_heads x head_dim x tokens x batch x dtype bytes. */
export function kvCacheBytes(a: ArchSpec, batch: number, tokens: number, elem: number): number {
  return 2 * a.layers * a.kvHeads * a.headDim * tokens * batch * elem;
}

export function estimateLlm(a: ArchSpec, s: LlmSettings, capacity?: number): LlmEstimate {
  const device = llmDevice(s.device);
  const elem = ELEM[s.dtype];
  if (s.seq + s.newTokens > a.maxPositions) {
    throw new UsageError(`--dim seq=${s.seq}${s.newTokens ? ` + ${s.newTokens} new tokens` : ""}: ${a.modelType} has ${a.maxPositions} positions`);
  }
  const program =
    s.mode === "generate"
      ? generateProgram(a, { batch: s.batch, prompt: s.seq, newTokens: s.newTokens, elem, attn: s.attn, minNewTokens: s.minNewTokens ?? 0 })
      : forwardProgram(a, { batch: s.batch, seq: s.seq, elem, attn: s.attn, logitsForAll: true });
  const cublas = cublasWorkspaceBytes(device.computeCapability.value!);
  const lt = usesCublasLt(a) ? CUBLASLT_WORKSPACE : 0;
  const sim = simulate(program, {
    workspace: () => 0,
    cublasWorkspace: cublas,
    cublasLtWorkspace: lt,
    cublasFirst: s.cublasFirst ?? false,
    deleteOutputs: true,
    // The second forward is the steady state the measurements report; a third adds nothing here.
    forwards: 2,
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
    workspace: sim.usesCublas ? cublas + lt : 0,
    peakAllocated: sim.peakAllocated,
    peakReserved: sim.peakReserved,
    runtimeOverhead: context,
    total,
    peakAt: { layer: peakOp?.layer ?? "", live: sim.liveness.liveAtPeak },
    perBatch: { fixed: 0, perSample: 0 },
    kvCache,
  };
  const timeline = s.mode === "generate" ? stepTimeline(program, sim) : program.ops.map((op, i) => ({ layer: op.layer, liveBytes: sim.liveness.timeline[i] ?? 0 }));
  return { program, sim, memory, timeline, kvCache, cublasLtWorkspace: sim.usesCublas ? lt : 0 };
}

/**
 * Generation runs the forward once per token: the timeline keeps every op of the prefill, then one point per
 * decoding step (its largest live total), so it stays readable at thousands of tokens.
 */
function stepTimeline(program: EagerProgram, sim: SimulationResult): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  let step = 0;
  let top = 0;
  program.ops.forEach((op, i) => {
    const live = sim.liveness.timeline[i] ?? 0;
    if (step === 0) out.push({ layer: op.layer, liveBytes: live });
    else top = Math.max(top, live);
    if (op.layer === "generate/cat_input_ids") {
      if (step > 0) out.push({ layer: `decode step ${step}`, liveBytes: top });
      step++;
      top = 0;
    }
  });
  return out;
}

/**
 * The Report's model summary for an LLM source: the eager ops stand for nodes; the weight bytes are the files'
 * when their headers were read, else the parameters at `bytesPerParam`.
 */
export function llmModelSummary(src: LlmSource, ops: number, bytesPerParam: number): ModelSummary {
  const a = src.arch;
  return {
    file: src.file,
    format: src.format,
    producer: `${a.modelType} (${a.layers} layers, hidden ${a.hidden}, ${a.heads} heads / ${a.kvHeads} kv)`,
    opsets: {},
    nodes: ops,
    parameters: src.parameters,
    weightBytes: src.weightBytes ?? src.parameters * bytesPerParam,
  };
}

/** The Report's settings for an LLM run: one input, `input_ids` [batch, seq]. */
export function llmReportSettings(s: { batch: number; seq: number; dtype: string; device: string }, mode: string): Settings {
  return {
    batch: s.batch,
    inputs: { input_ids: [s.batch, s.seq] },
    dtype: s.dtype,
    runtime: "pytorch-cuda",
    device: s.device,
    mode,
    dims: { batch: s.batch, seq: s.seq },
  };
}

/** The report for an LLM source: same contract as an ONNX analysis; layers are the eager ops. */
export function llmReport(src: LlmSource, s: LlmSettings): Report {
  const e = estimateLlm(src.arch, s);
  // Everything reserved beyond the weights' segments and the cuBLAS workspace grows with the batch.
  const growing = Math.max(0, e.sim.peakReserved - e.sim.weightsReserved - e.memory.workspace);
  const perSample = Math.round(growing / s.batch);
  e.memory.perBatch = { fixed: e.memory.total - perSample * s.batch, perSample };
  const layers: Layer[] = e.program.ops.map((op) => ({
    name: op.layer,
    op: op.opTypes[0] ?? "",
    outputs: op.allocs.map((al) => ({ name: al.id, shape: null, dtype: s.dtype, bytes: al.bytes })),
    paramBytes: 0,
    flops: null,
  }));
  return {
    schema: SCHEMA,
    model: llmModelSummary(src, e.program.ops.length, ELEM[s.dtype]),
    settings: llmReportSettings(s, s.mode),
    layers,
    memory: e.memory,
    timeline: e.timeline,
    warnings: [...src.warnings, `attention implementation: ${s.attn}`],
  };
}
