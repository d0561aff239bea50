/**
 * Training memory of a hub transformer from its architecture alone (config.json / safetensors / GGUF): the
 * HF forward as an allocation program (program.ts `trainingProgram`, every op with what autograd needs of
 * it), its parameters as the training model's TrainParams, and the same simulated loop as an ONNX graph
 * (src/memory/train/step.ts): parameters, gradients, optimizer state, saved activations, backward's
 * gradient buffers, the step's temporaries; autocast with fp32 master weights; checkpointing per decoder
 * layer; LoRA on PEFT's default target modules; QLoRA's NF4 base weights.
 */
import { UsageError } from "../errors.js";
import { byteSize } from "../graph/dtype.js";
import { cublasWorkspaceBytes } from "../memory/devices.js";
import type { EagerProgram } from "../memory/torch/eager.js";
import { autocastProgram } from "../memory/train/autocast.js";
import type { TrainEstimate } from "../memory/train/estimate.js";
import { halfType } from "../memory/train/estimate.js";
import { parseOptimizer } from "../memory/train/optimizer.js";
import { nf4Bytes, type TrainParam } from "../memory/train/params.js";
import { trainingResult, type TrainSettings } from "../memory/train/report.js";
import { FROZEN_LINEAR } from "../memory/train/rules.js";
import { simulateTraining } from "../memory/train/step.js";
import type { MemoryResult } from "../memory/profile.js";
import type { Layer, Report } from "../contract/report.js";
import { SCHEMA } from "../contract/report.js";
import type { ArchSpec, Family } from "./arch.js";
import { llmDevice, llmModelSummary, llmReportSettings } from "./estimate.js";
import { trainingProgram, type AttnImpl, type LinearRole, type LlmParam } from "./program.js";
import type { LlmSource } from "./source.js";

export interface LlmTrainSettings {
  batch: number;
  seq: number;
  /** fp32, or fp16/bf16 autocast over fp32 master weights. */
  dtype: "fp32" | "fp16" | "bf16";
  attn: AttnImpl;
  device: string;
  optimizer?: string;
  train: TrainSettings;
}

/**
 * PEFT's default LoRA target modules (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): gpt2 `c_attn`,
 * bert `query`/`value`, llama/mistral/qwen2/qwen3 `q_proj`/`v_proj`.
 */
export const LORA_TARGETS: Record<Family, readonly LinearRole[]> = { gpt2: ["qkv"], bert: ["q", "v"], llama: ["q", "v"] };

/** Transformers' module names for the roles, to say which modules LoRA wraps. */
const ROLE_NAMES: Record<Family, Partial<Record<LinearRole, string>>> = {
  gpt2: { qkv: "c_attn" },
  bert: { q: "query", v: "value" },
  llama: { q: "q_proj", v: "v_proj" },
};

export function loraTargetNames(family: Family): string[] {
  return LORA_TARGETS[family].map((r) => ROLE_NAMES[family][r] ?? r);
}

/**
 * The training model's parameters: fp32 master weights, all trainable; with LoRA every base parameter frozen
 * and adapters A (r x in) and B (out x r) on the target Linears; with QLoRA every Linear but lm_head stored
 * in NF4 (bitsandbytes quantizes all of them, not only LoRA's targets).
 */
export function llmTrainParams(family: Family, params: { op: number; param: LlmParam }[], loraRank: number | undefined, qlora: boolean): TrainParam[] {
  const lora = loraRank !== undefined && loraRank > 0;
  const targets = new Set(LORA_TARGETS[family]);
  const out: TrainParam[] = [];
  for (const { op, param } of params) {
    const fp32 = byteSize("float32", param.elements);
    const what = param.kind === "other" ? "other" : "weight";
    const l = param.linear;
    const quantized = qlora && l !== undefined && l.role !== "lm_head";
    out.push({ op, elements: param.elements, bytes: quantized ? nf4Bytes(param.elements) : fp32, trainable: !lora, what, ...(quantized ? { quantized: true } : {}) });
    if (lora && l && targets.has(l.role)) {
      const r = loraRank!;
      out.push({ op, elements: r * l.inFeatures, bytes: byteSize("float32", r * l.inFeatures), trainable: true, what: "lora", lora: { part: "A", rank: r, outFeatures: l.outFeatures } });
      out.push({ op, elements: r * l.outFeatures, bytes: byteSize("float32", r * l.outFeatures), trainable: true, what: "lora", lora: { part: "B", rank: r, outFeatures: l.outFeatures } });
    }
  }
  return out;
}

/** Tensors that hold integers (positions, ids): autocast never casts them. */
const INTEGER = new Set(["input_ids", "wpe/arange", "cache_position"]);

export interface LlmTrainEstimate extends TrainEstimate {
  /** LoRA's target modules (transformers' names), when --lora-rank is given. */
  loraTargets: string[];
}

export function estimateLlmTraining(a: ArchSpec, s: LlmTrainSettings, capacity?: number): LlmTrainEstimate {
  const device = llmDevice(s.device);
  const half = halfType(s.dtype);
  const optimizer = parseOptimizer(s.optimizer);
  const t = s.train;
  const lora = t.loraRank !== undefined && t.loraRank > 0;
  if (t.qlora && !lora) throw new UsageError("--qlora needs --lora-rank R");
  if (s.seq > a.maxPositions) throw new UsageError(`--dim seq=${s.seq}: ${a.modelType} has ${a.maxPositions} positions`);
  const tp = trainingProgram(a, s.batch, s.seq, s.attn);
  const params = llmTrainParams(a.family, tp.params, t.loraRank, t.qlora ?? false);
  const paramOps = new Set(params.map((p) => p.op));
  const isFloat = (id: string): boolean => !INTEGER.has(id.split("#")[0]!);
  const amp = half ? autocastProgram(tp.program, isFloat, (i) => paramOps.has(i)) : undefined;
  const program = frozenLinears(amp?.program ?? tp.program, params);
  const cublasWorkspace = cublasWorkspaceBytes(device.computeCapability.value!);
  const sim = simulateTraining(program, {
    optimizer,
    params,
    ...(half && amp ? { activationDType: half, mixedPrecision: true, castReads: amp.castReads } : {}),
    ...(t.checkpointing ? { checkpointing: true } : {}),
    workspace: () => 0,
    cublasWorkspace,
    backwardCublas: true,
    batch: s.batch * s.seq,
    outputElements: tp.logitElements,
    ...(capacity !== undefined ? { capacity } : {}),
  });
  return { program, params, sim, optimizer, cublasWorkspace, loraTargets: lora ? loraTargetNames(a.family) : [] };
}

/**
 * A Linear whose weight is frozen and carries no adapter saves nothing of its input (autograd keeps the input
 * only for the weight's gradient). Applied after autocast, which still sees it as a matmul.
 */
function frozenLinears(prog: EagerProgram, params: TrainParam[]): EagerProgram {
  const frozen = new Set<number>();
  const adapted = new Set<number>();
  for (const p of params) {
    if (p.what === "lora") adapted.add(p.op);
    else if (p.what === "weight" && !p.trainable) frozen.add(p.op);
  }
  const ops = prog.ops.map((op, i) => (frozen.has(i) && !adapted.has(i) && op.opTypes.includes("MatMul") ? { ...op, opTypes: [FROZEN_LINEAR] } : op));
  return { ...prog, ops };
}

/** memory, timeline and warnings of a training step, as the ONNX path fills them. */
export function llmTrainMemory(a: ArchSpec, s: LlmTrainSettings, capacity?: number): { e: LlmTrainEstimate; result: MemoryResult } {
  const e = estimateLlmTraining(a, s, capacity);
  const device = llmDevice(s.device);
  const context = device.contextLazy.value;
  const runtimeOverhead = context + device.librariesLazy.cublas.value;
  const result = trainingResult(e, { dtype: s.dtype, batch: s.batch }, s.train, { device, runtimeOverhead, context });
  // The simulation's notes about exported graphs (eval-mode exports without Dropout nodes, ops without ONNX
  // nodes) do not apply: this program is built from the architecture, and its dropout note follows.
  result.warnings = result.warnings.filter((w) => !/no Dropout nodes|eager ops without their nodes/.test(w));
  if (e.loraTargets.length > 0) {
    result.warnings.push(`LoRA on PEFT's default target modules for ${a.modelType}: ${e.loraTargets.join(", ")} (rank ${s.train.loraRank}, lora_dropout 0); every other parameter frozen, held fp32 (a base loaded with torch_dtype=bfloat16 holds half of that)`);
  }
  if (s.train.qlora) result.warnings.push("QLoRA: every Linear but lm_head in NF4 with double quantization (bitsandbytes), the rest fp32");
  result.warnings.push(
    "training from config.json: dropout is not modelled (as with model.eval() or p=0); with transformers' default p=0.1 each dropout adds an output and a one-byte mask per element",
    `checkpointing${s.train.checkpointing ? "" : " (when enabled)"}: per decoder layer, as transformers' gradient_checkpointing_enable()`,
  );
  return { e, result };
}

/** The report for `analyze --mode train` of an LLM source: same contract as an ONNX analysis. */
export function llmTrainReport(src: LlmSource, s: LlmTrainSettings): Report {
  const { e, result } = llmTrainMemory(src.arch, s);
  const layers: Layer[] = e.program.ops.map((op) => ({
    name: op.layer,
    op: op.opTypes[0] ?? "",
    outputs: op.allocs.map((al) => ({ name: al.id, shape: null, dtype: al.bytes > 0 ? s.dtype : null, bytes: al.bytes })),
    paramBytes: e.params.filter((p) => e.program.ops[p.op] === op).reduce((x, p) => x + p.bytes, 0),
    flops: null,
  }));
  return {
    schema: SCHEMA,
    // Training keeps fp32 master weights.
    model: llmModelSummary(src, e.program.ops.length, 4),
    settings: llmReportSettings(s, "train"),
    layers,
    memory: result.memory,
    timeline: result.timeline,
    warnings: [...src.warnings, `attention implementation: ${s.attn}`, ...result.warnings],
  };
}
