/**
 * What autograd keeps for backward, and what each backward allocates, per eager op (src/memory/torch/eager.ts).
 * The rules follow the derivative formulas of PyTorch's tools/autograd/derivatives.yaml:
 * - convolution and matmul/linear save their inputs (the weight's gradient needs the activation);
 * - ReLU/Hardtanh/Sigmoid/Tanh/Softmax save their result (in place: the storage they overwrote);
 * - GELU/SiLU (Swish)/LayerNorm save their input, LayerNorm and BatchNorm also small per-row/per-channel statistics;
 * - a product or quotient saves each operand the other's gradient needs: x * c and x / c by a constant keep
 *   only the constant (autograd saves `self` only when `other` requires grad), x * y keeps both;
 * - max pooling saves its input and the int64 argmax indices (one per output element);
 * - scaled-dot-product attention (memory-efficient kernel) saves q, k, v, its output and the log-sum-exp;
 * - dropout (a graph exported in training mode keeps its Dropout nodes) makes a new output and a bool mask,
 *   one byte per element, which its backward reads;
 * - add, concat, average pooling, views and copies save nothing;
 * - a matmul/linear whose weight is a frozen parameter (LoRA's untargeted layers, e.g. nn.MultiheadAttention's
 *   projections) saves nothing of its input: autograd's generated code saves mm's `self` only when
 *   `should_compute_output` says mat2 (the weight) needs a gradient (tools/autograd/gen_variable_type.py,
 *   guard_for), the rule FROZEN_LINEAR states for the LLM path. Convolution saves its input regardless (its
 *   derivative is one formula for input, weight and bias, which that guard does not split);
 * - an in-place op whose derivative reads its *input* (hardtanh_ for ReLU6, hardswish_, silu_: derivatives.yaml
 *   has no in-place formula for them) makes autograd save a clone of the input before overwriting it (measured:
 *   mobilenet_v2's ReLU6(inplace=True) layers hold 1.56 GB of clones at batch 64, the whole gap to the
 *   H200 measurement);
 * and a BatchNorm folded into a Conv by the exporter is a real BatchNorm in training: the conv output it
 * reads is saved (it is transient only in inference).
 */
import type { EagerOp } from "../torch/eager.js";

/** Op types whose backward only reshapes, narrows or passes on the incoming gradient (no new buffer). */
const ALIAS_BACKWARD = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Transpose", "Slice", "Split", "Expand", "Gather", "Concat", "Add", "Sub"]);
/** Elementwise activations whose backward reads their result. */
const SAVE_RESULT = new Set(["Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "Softmax", "LogSoftmax", "Elu", "Selu", "Celu"]);
/** Ops whose backward reads their inputs. */
const SAVE_INPUTS = new Set(["Conv", "ConvTranspose", "MatMul", "Gemm", "Mul", "Div", "Erf", "Gelu", "LayerNormalization", "BatchNormalization", "HardSwish", "LeakyRelu", "Pow", "Sqrt", "Exp", "Log", "InstanceNormalization", "GroupNormalization", "ReduceMax", "ReduceMin", "Swish"]);
/**
 * A Linear whose weight is frozen and has no adapter (LoRA's untargeted base layers, bitsandbytes' 4-bit
 * matmul): autograd saves only the weight, a parameter, nothing of its input. Not an ONNX op type: the LLM
 * training model (src/llm/train.ts) names such layers so.
 */
export const FROZEN_LINEAR = "FrozenLinear";
/** Ops whose backward needs only shapes. */
const SAVE_NOTHING = new Set([FROZEN_LINEAR, "Add", "Sub", "Concat", "GlobalAveragePool", "AveragePool", "ReduceMean", "ReduceSum", "Neg", "Cast", "Pad"]);

export interface SavedPlan {
  /** Storages (existing ids) this op's backward reads: held until its backward has run. */
  storages: string[];
  /** New buffers the forward allocates only for backward (argmax indices, statistics), bytes each. */
  extra: number[];
  /** The folded BatchNorm's conv output is kept (saved as BN's input) instead of freed at once. */
  keepFoldedConv: boolean;
  /** Op types no rule here knows: their inputs are assumed saved (stated as a warning). */
  unknown: string[];
}

/** In-place activations (as eager.ts maps them) whose backward reads the input: a clone is saved. */
const INPLACE_CLONES_INPUT = new Set(["Clip", "HardSwish", "HardSigmoid"]);

export function isAliasBackward(op: EagerOp): boolean {
  return op.opTypes.every((t) => ALIAS_BACKWARD.has(t));
}

/** True when the op is one scaled-dot-product-attention call (the exporter spells it MatMul, Softmax, MatMul). */
function isAttention(op: EagerOp): boolean {
  return op.opTypes.includes("Softmax") && op.opTypes.filter((t) => t === "MatMul").length >= 2;
}

/**
 * What op `op` saves. `outputs` are its result storages (its own allocations, or the storage it overwrote in
 * place); `elementBytes` the activation element size (int64 indices scale from it); `channels` the folded
 * BatchNorm's channel count; `frozenWeight`: the op's matmul multiplies one activation by parameters of which
 * none requires grad.
 */
export function savedFor(op: EagerOp, outputs: string[], outputBytes: number, elementBytes: number, channels: number | undefined, frozenWeight = false): SavedPlan {
  const plan: SavedPlan = { storages: [], extra: [], keepFoldedConv: false, unknown: [] };
  const addInputs = (): void => {
    for (const r of op.reads) if (!plan.storages.includes(r)) plan.storages.push(r);
  };
  const addOutputs = (): void => {
    for (const o of outputs) if (!plan.storages.includes(o)) plan.storages.push(o);
  };
  if (isAttention(op)) {
    addInputs();
    addOutputs();
    return plan;
  }
  const folded = op.allocs.some((a) => a.what === "folded-bn");
  if (folded || op.opTypes.includes("BatchNormalization")) {
    plan.keepFoldedConv = true;
    // save_mean and save_invstd, one fp32 value per channel each.
    if (channels !== undefined) plan.extra.push(channels * 4, channels * 4);
  }
  if (op.opTypes.length === 1 && op.opTypes[0] === "Dropout" && !dropoutIsIdentity(op)) {
    // eager.ts maps Dropout as a view (inference); in training it is an output of the input's size plus the mask.
    plan.extra.push(outputBytes, outputBytes / elementBytes);
    return plan;
  }
  const inPlace = op.allocs.length === 0 && !isAliasBackward(op);
  const silu = op.opTypes.includes("Sigmoid") && op.opTypes.includes("Mul");
  if (inPlace && (silu || op.opTypes.some((t) => INPLACE_CLONES_INPUT.has(t)))) {
    plan.extra.push(outputBytes);
    return plan;
  }
  for (const t of new Set(op.opTypes)) {
    // Scaling by a constant (attention's 1/sqrt(d), a GELU's 0.5): nothing of the device operand is kept.
    // (A constant divided by a tensor is taken the same way: rare, and a small underestimate.)
    if ((t === "Mul" || t === "Div") && op.reads.length < 2) continue;
    // x W with W frozen: only W (a parameter, held anyway) is kept, for x's gradient.
    if ((t === "MatMul" || t === "Gemm") && frozenWeight) continue;
    if (t === "MaxPool") {
      addInputs();
      plan.extra.push((outputBytes / elementBytes) * 8);
    } else if (SAVE_RESULT.has(t)) addOutputs();
    else if (SAVE_INPUTS.has(t)) addInputs();
    else if (SAVE_NOTHING.has(t) || ALIAS_BACKWARD.has(t)) continue;
    else {
      plan.unknown.push(t);
      addInputs();
    }
  }
  return plan;
}

/**
 * A Dropout whose ratio attribute (opsets before 12) is 0 is the identity. From opset 12 the ratio is an input
 * whose value is not read here: such a node is taken as a real dropout (PyTorch drops p=0 dropouts itself).
 */
function dropoutIsIdentity(op: EagerOp): boolean {
  const ratio = op.nodes?.[0]?.attrs["ratio"];
  return ratio?.type === "float" && ratio.value === 0;
}

/**
 * The TorchScript exporter spells scaled_dot_product_attention as MatMul(q, k^T), Softmax, MatMul(p, v) in
 * separate ops. PyTorch's fused attention kernels save q, k, v and the output (plus a small log-sum-exp), never
 * the score matrix: the Softmax keeps nothing, and the second MatMul keeps v and its output instead of the
 * probabilities. Returns how many such patterns were rewritten.
 */
export function fuseSpelledAttention(ops: EagerOp[], plans: SavedPlan[], outputsOf: (op: EagerOp) => string[]): number {
  const readers = new Map<string, number[]>();
  ops.forEach((op, i) => op.reads.forEach((r) => readers.set(r, [...(readers.get(r) ?? []), i])));
  let count = 0;
  ops.forEach((op, s) => {
    if (op.opTypes.length !== 1 || op.opTypes[0] !== "Softmax" || op.allocs.length === 0) return;
    const scores = op.reads[0];
    const probs = outputsOf(op)[0];
    if (scores === undefined || probs === undefined) return;
    const made = ops.findIndex((x) => x.allocs.some((a) => a.id === scores && !a.transient));
    const users = readers.get(probs) ?? [];
    const c = users[0];
    if (made < 0 || ops[made]!.opTypes.join() !== "MatMul" || users.length !== 1 || c === undefined || ops[c]!.opTypes.join() !== "MatMul") return;
    plans[s] = { ...plans[s]!, storages: [] };
    const pv = plans[c]!;
    plans[c] = { ...pv, storages: [...pv.storages.filter((x) => x !== probs), ...outputsOf(ops[c]!)] };
    count++;
  });
  return count;
}
