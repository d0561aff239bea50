/**
 * The builder every transformer family's program is written with (program.ts, family-*.ts): one aten op per
 * call, each tensor's last reference, and what autograd needs of each op; plus the types a run is described by.
 */
import type { EagerOp, EagerProgram } from "../memory/torch/eager.js";

export type AttnImpl = "eager" | "sdpa" | "flash";

export interface LlmRun {
  batch: number;
  /** Tokens fed in this forward. */
  seq: number;
  /** Bytes per element of the model dtype (4 fp32, 2 fp16/bf16). */
  elem: number;
  attn: AttnImpl;
  /** Causal LMs: compute logits for every position (a plain forward) or only the last (generate's prefill). */
  logitsForAll: boolean;
  /** Generation: the KV cache (DynamicCache) this forward appends to, and the tokens already in it. */
  cache?: KvCache;
}

/** DynamicCache: per layer, the ids of the K and V tensors; each update is torch.cat (a new, longer tensor). */
export interface KvCache {
  keys: (string | undefined)[];
  values: (string | undefined)[];
  past: number;
}

/** The role of a Linear layer (LoRA targets are chosen by role; QLoRA quantizes all but lm_head). */
export type LinearRole = "q" | "k" | "v" | "qkv" | "o" | "attn_out" | "gate" | "up" | "down" | "pooler" | "lm_head";

/** A parameter an op uses (for the training model, src/llm/train.ts). */
export interface LlmParam {
  /** transformers' parameter name (`h.0.attn.c_attn.weight`). */
  name: string;
  elements: number;
  /**
   * linear: a Linear/Conv1D weight; bias: its bias (autocast casts both to half for the matmul);
   * other: norm scales and embeddings (autocast leaves them fp32).
   */
  kind: "linear" | "bias" | "other";
  /** Linear weights: role and shape. */
  linear?: { role: LinearRole; inFeatures: number; outFeatures: number };
}

/**
 * What autograd needs of an op: its kind as an ONNX op type (the saved-tensor rules of
 * src/memory/train/rules.ts and autocast's lists are keyed by those), the tensors it reads, its parameters.
 * The inference simulation ignores it.
 */
export interface OpGrad {
  type: string | string[];
  reads?: (string | undefined)[];
  params?: LlmParam[];
}

/** A Linear layer's parameters: weight (in x out) and optionally its bias. */
export function linear(name: string, role: LinearRole, inFeatures: number, outFeatures: number, bias: boolean): LlmParam[] {
  const w: LlmParam = { name: `${name}.weight`, elements: inFeatures * outFeatures, kind: "linear", linear: { role, inFeatures, outFeatures } };
  return bias ? [w, { name: `${name}.bias`, elements: outFeatures, kind: "bias" }] : [w];
}

/** A norm's or embedding's parameters. */
export function others(name: string, ...sizes: [string, number][]): LlmParam[] {
  return sizes.map(([n, e]) => ({ name: `${name}.${n}`, elements: e, kind: "other" as const }));
}

/** Module name from a program op name (`h.0/attn/c_attn` -> `h.0.attn.c_attn`). */
export const mod = (name: string): string => name.replaceAll("/", ".");

/** Ids are unique per tensor; `free` records the op after which the last reference dies. */
export class ProgramBuilder {
  readonly ops: EagerOp[] = [];
  readonly freeAfter = new Map<string, number>();
  /** Per op, what autograd needs of it (undefined: nothing differentiable). */
  readonly grads: (OpGrad | undefined)[] = [];
  /** Small tensors autograd keeps for backward though the forward drops them (rotary cos/sin). */
  readonly heldForBackward: string[] = [];
  private n = 0;

  /** One aten op producing one tensor of `bytes` (0 bytes: a view, nothing allocated). */
  op(name: string, bytes: number, cublas = false, grad?: OpGrad): string {
    const id = `${name}#${this.n++}`;
    this.grads.push(grad);
    this.ops.push({ layer: name, opTypes: [name.split("/").pop() ?? name], path: name.split("/"), reads: [], allocs: bytes > 0 ? [{ id, bytes, transient: false, what: "output" }] : [], convs: [], usesCublas: cublas });
    if (bytes <= 0) this.freeAfter.set(id, this.ops.length - 1);
    return id;
  }

  free(...ids: (string | undefined)[]): void {
    for (const id of ids) if (id !== undefined && !this.freeAfter.has(id)) this.freeAfter.set(id, Math.max(0, this.ops.length - 1));
  }

  /** Marks tensors the forward returns (they live on after it). */
  keep(...ids: string[]): void {
    for (const id of ids) this.freeAfter.set(id, Number.POSITIVE_INFINITY);
  }

  build(weights: number[], inputBytes: number, outputBytes: number, warnings: string[] = []): EagerProgram {
    return { ops: this.ops, freeAfter: this.freeAfter, inputBytes, outputBytes, weights, warnings };
  }
}

export interface Forward {
  outputs: string[];
  outputBytes: number;
}
