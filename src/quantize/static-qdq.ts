/**
 * int8 static quantization in QDQ form: QuantizeLinear/DequantizeLinear pairs around Conv, MatMul, Gemm
 * and Add, with activation ranges measured by calibration. onnxruntime fuses DQ -> op -> Q into
 * QLinearConv / QGemm / QLinearAdd; any runtime that does not still computes the right thing in float.
 *
 * Choices (and why):
 * - weights int8 symmetric per output channel (zero point 0); activations uint8 asymmetric per tensor;
 * - biases int32 at scale x_scale * w_scale, so the fused kernels add them in the accumulator;
 * - a ReLU, or a Clip(0, max), that is the only consumer of a quantized op's output is folded into that
 *   output's range (lower end 0, upper end at most max): quantization clamps exactly as the activation did.
 */
import type { Node } from "../graph/ir.js";
import { GraphEditor, intAttr, node } from "./graph-edit.js";
import { isSkip, keptFloat, weightTarget, type Skip, type WeightTarget } from "./targets.js";
import { quantizeBias, quantizePerChannel, uint8Params } from "./weights.js";

export interface Range {
  lo: number;
  hi: number;
}

export interface StaticOptions {
  keepFloat: readonly string[];
  /** 7-bit weights (see weights.ts). */
  reduceRange: boolean;
}

export interface TransformResult {
  quantized: Node[];
  skipped: Skip[];
  warnings: string[];
}

/** Tensors whose ranges the static quantizer needs: computed before calibration from the float model. */
export function calibrationTensors(e: GraphEditor, opts: StaticOptions): string[] {
  return [...planStatic(e, opts).ranges];
}

interface Plan {
  weighted: WeightTarget[];
  adds: Node[];
  /** Folded activation node -> the quantized node whose output it replaces. */
  folds: Map<Node, Node>;
  /** Every tensor that gets a Q/DQ pair (post-fold names). */
  ranges: Set<string>;
  skipped: Skip[];
}

function planStatic(e: GraphEditor, opts: StaticOptions): Plan {
  const kept = keptFloat(e.nodes, opts.keepFloat, (n) => ["Conv", "MatMul", "Gemm"].includes(n.opType));
  const consumers = e.consumers();
  const graphOutputs = new Set(e.model.graph.outputs.map((o) => o.name));
  const weighted: WeightTarget[] = [];
  const adds: Node[] = [];
  const skipped: Skip[] = [];
  for (const n of e.nodes) {
    if (kept.has(n)) {
      skipped.push({ node: n, reason: "kept float by --keep-float" });
      continue;
    }
    const t = weightTarget(e, n);
    if (isSkip(t)) skipped.push(t);
    else if (t) weighted.push(t);
    else if (n.opType === "Add" && n.domain === "" && n.inputs.every((i) => !e.constant(i))) adds.push(n);
  }
  const folds = new Map<Node, Node>();
  const ranges = new Set<string>();
  const quantizedNodes = [...weighted.map((t) => t.node), ...adds];
  for (const t of weighted) ranges.add(t.x);
  for (const a of adds) a.inputs.forEach((i) => ranges.add(i));
  for (const q of quantizedNodes) {
    const out = q.outputs[0]!;
    if (graphOutputs.has(out)) continue;
    const users = consumers.get(out) ?? [];
    const act = users.length === 1 ? users[0]! : undefined;
    if (act && !kept.has(act) && foldable(e, act)) {
      folds.set(act, q);
      ranges.add(act.outputs[0]!);
    } else ranges.add(out);
  }
  return { weighted, adds, folds, ranges, skipped };
}

/** Relu, or Clip whose lower bound is 0 and whose bounds are constants. */
function foldable(e: GraphEditor, n: Node): boolean {
  if (n.domain !== "") return false;
  if (n.opType === "Relu") return true;
  if (n.opType !== "Clip") return false;
  const lo = n.inputs[1] ? e.scalar(n.inputs[1]) : n.attrs["min"]?.type === "float" ? n.attrs["min"].value : undefined;
  const hiName = n.inputs[2];
  const hiOk = !hiName || e.scalar(hiName) !== undefined;
  return lo === 0 && hiOk;
}

function clipMax(e: GraphEditor, n: Node): number {
  if (n.opType !== "Clip") return Infinity;
  const name = n.inputs[2];
  if (name) return e.scalar(name) ?? Infinity;
  const a = n.attrs["max"];
  return a?.type === "float" ? a.value : Infinity;
}

export function quantizeStatic(e: GraphEditor, ranges: ReadonlyMap<string, Range>, opts: StaticOptions): TransformResult {
  const plan = planStatic(e, opts);
  const warnings: string[] = [];
  const qmax = opts.reduceRange ? 63 : 127;
  // Activation parameters, one Q/DQ pair per tensor.
  const params = new Map<string, { scale: string; zp: string; s: number }>();
  for (const name of plan.ranges) {
    const r = ranges.get(name);
    if (!r) {
      warnings.push(`no calibration range for '${name}': left float`);
      continue;
    }
    let { lo, hi } = r;
    const act = [...plan.folds.keys()].find((a) => a.outputs[0] === name);
    if (act) {
      lo = 0;
      hi = Math.min(hi, clipMax(e, act));
    }
    const { scale, zeroPoint } = uint8Params(lo, hi);
    params.set(name, {
      scale: e.addInitializer(`${name}_scale`, "float32", [], new Float32Array([scale])),
      zp: e.addInitializer(`${name}_zero_point`, "uint8", [], new Uint8Array([zeroPoint])),
      s: scale,
    });
  }

  // Rewire: a folded activation disappears and its producer writes the activation's output.
  const producerOut = new Map<Node, string>();
  for (const [act, q] of plan.folds) {
    if (!params.has(act.outputs[0]!)) {
      plan.folds.delete(act);
      continue;
    }
    producerOut.set(q, act.outputs[0]!);
  }

  const quantized: Node[] = [];
  const dq = new Map<string, string>();
  const out: Node[] = [];
  const graphInputs = new Set(e.model.graph.inputs.map((v) => v.name));
  /** Q then DQ of tensor `t` (produced as `src`), the DQ writing `dst`. */
  const qdq = (src: string, dst: string, p: { scale: string; zp: string }) => {
    const q = e.fresh(`${dst}_quantized`);
    out.push(node("QuantizeLinear", [src, p.scale, p.zp], [q], e.fresh(`${dst}_QuantizeLinear`)));
    out.push(node("DequantizeLinear", [q, p.scale, p.zp], [dst], e.fresh(`${dst}_DequantizeLinear`)));
  };
  // Graph inputs get their pair first; consumers then read the DQ output.
  for (const name of plan.ranges) {
    const p = params.get(name);
    if (p && graphInputs.has(name)) {
      const dst = e.fresh(`${name}_dequantized`);
      qdq(name, dst, p);
      dq.set(name, dst);
    }
  }
  const weightedByNode = new Map(plan.weighted.map((t) => [t.node, t]));
  const addSet = new Set(plan.adds);
  for (const n0 of e.nodes) {
    if (plan.folds.has(n0)) continue;
    const n = { ...n0, inputs: n0.inputs.map((i) => dq.get(i) ?? i), outputs: [...n0.outputs] };
    const t = weightedByNode.get(n0);
    const inputsReady = t ? params.has(t.x) : addSet.has(n0) ? n0.inputs.every((i) => params.has(i)) : false;
    if (t && inputsReady) {
      quantizeWeights(e, n, t, params.get(t.x)!.s, qmax, out, warnings);
      quantized.push(n0);
    } else if (addSet.has(n0) && inputsReady) {
      quantized.push(n0);
    } else if (t || addSet.has(n0)) {
      plan.skipped.push({ node: n0, reason: "an input has no calibration range" });
    }
    // Outputs: a tensor with a pair is written under a new name and re-emitted by the DQ.
    const finalOut = producerOut.get(n0) ?? n.outputs[0]!;
    if (producerOut.has(n0)) n.outputs[0] = finalOut;
    const p = params.get(finalOut);
    if (p && !graphInputs.has(finalOut)) {
      const pre = e.fresh(`${finalOut}_float`);
      n.outputs[0] = pre;
      out.push(n);
      qdq(pre, finalOut, p);
    } else out.push(n);
  }
  e.nodes.splice(0, e.nodes.length, ...out);
  e.dropUnused();
  return { quantized, skipped: plan.skipped, warnings };
}

/** Replace a node's float weight (and bias) inputs by DQ of int8 weights (and int32 bias). */
function quantizeWeights(e: GraphEditor, n: Node, t: WeightTarget, xScale: number, qmax: number, out: Node[], warnings: string[]): void {
  const { q, scales } = quantizePerChannel(t.wValues, t.wDims, t.axis, qmax);
  const channels = scales.length;
  const wq = e.addInitializer(`${t.w}_quantized`, "int8", t.wDims, q);
  const ws = e.addInitializer(`${t.w}_scale`, "float32", [channels], scales);
  const wz = e.addInitializer(`${t.w}_zero_point`, "int8", [channels], new Int8Array(channels));
  const wdq = e.fresh(`${t.w}_dequantized`);
  out.push(node("DequantizeLinear", [wq, ws, wz], [wdq], e.fresh(`${t.w}_DequantizeLinear`), { axis: intAttr(t.axis) }));
  n.inputs[1] = wdq;
  if (t.bias === "") return;
  const b = quantizeBias(e.floats(t.bias)!, xScale, scales);
  if (b.clipped > 0) warnings.push(`${n.name}: ${b.clipped} bias values clipped to int32`);
  const bq = e.addInitializer(`${t.bias}_quantized`, "int32", [channels], b.q);
  const bs = e.addInitializer(`${t.bias}_scale`, "float32", [channels], b.scales);
  const bz = e.addInitializer(`${t.bias}_zero_point`, "int32", [channels], new Int32Array(channels));
  const bdq = e.fresh(`${t.bias}_dequantized`);
  out.push(node("DequantizeLinear", [bq, bs, bz], [bdq], e.fresh(`${t.bias}_DequantizeLinear`), { axis: intAttr(0) }));
  n.inputs[2] = bdq;
}
