/**
 * int8 dynamic quantization: weights are stored int8 per output channel; activations are quantized at run
 * time by DynamicQuantizeLinear (uint8, per tensor, from each batch's own min/max), multiplied in integers
 * by ConvInteger / MatMulInteger, and scaled back to float with one Mul by x_scale * w_scale[c].
 *
 * onnxruntime's CPU ConvInteger takes uint8 weights only, with one zero point for the whole tensor: the
 * symmetric int8 values are stored shifted by 128 (zero point 128), which is the same integers. MatMulInteger
 * takes int8 weights with zero point 0 directly.
 */
import type { Node } from "../graph/ir.js";
import { GraphEditor, intAttr, node } from "./graph-edit.js";
import type { TransformResult } from "./static-qdq.js";
import { keptFloat, quantizableTarget, type Skip, type WeightTarget } from "./targets.js";
import { quantizePerChannel } from "./weights.js";

export interface DynamicOptions {
  keepFloat: readonly string[];
  reduceRange: boolean;
}

/** TensorProto.DataType FLOAT, for Cast. */
const FLOAT = 1;

export function quantizeDynamic(e: GraphEditor, opts: DynamicOptions): TransformResult {
  const kept = keptFloat(e.nodes, opts.keepFloat, (n) => ["Conv", "MatMul", "Gemm"].includes(n.opType));
  const qmax = opts.reduceRange ? 63 : 127;
  const skipped: Skip[] = [];
  const quantized: Node[] = [];
  const out: Node[] = [];
  /** One DynamicQuantizeLinear per activation tensor, shared by all its quantized consumers. */
  const dql = new Map<string, { q: string; scale: string; zp: string }>();
  for (const n of e.nodes) {
    const t = quantizableTarget(e, n, kept, skipped);
    if (!t) {
      out.push(n);
      continue;
    }
    let x = dql.get(t.x);
    if (!x) {
      x = { q: e.fresh(`${t.x}_quantized`), scale: e.fresh(`${t.x}_scale`), zp: e.fresh(`${t.x}_zero_point`) };
      out.push(node("DynamicQuantizeLinear", [t.x], [x.q, x.scale, x.zp], e.fresh(`${t.x}_DynamicQuantizeLinear`)));
      dql.set(t.x, x);
    }
    rewrite(e, t, x, qmax, out);
    quantized.push(n);
  }
  e.nodes.splice(0, e.nodes.length, ...out);
  e.dropUnused();
  return { quantized, skipped, warnings: [] };
}

function rewrite(e: GraphEditor, t: WeightTarget, x: { q: string; scale: string; zp: string }, qmax: number, out: Node[]): void {
  const n = t.node;
  const base = n.name || n.outputs[0]!;
  const { q, scales } = quantizePerChannel(t.wValues, t.wDims, t.axis, qmax);
  const channels = scales.length;
  const y = n.outputs[0]!;
  const acc = e.fresh(`${y}_int32`);
  let scaleShape: number[];
  if (t.kind === "Conv") {
    const shifted = new Uint8Array(q.length);
    for (let i = 0; i < q.length; i++) shifted[i] = q[i]! + 128;
    const wq = e.addInitializer(`${t.w}_quantized`, "uint8", t.wDims, shifted);
    const wz = e.addInitializer(`${t.w}_zero_point`, "uint8", [], new Uint8Array([128]));
    const attrs = Object.fromEntries(Object.entries(n.attrs));
    out.push(node("ConvInteger", [x.q, wq, x.zp, wz], [acc], e.fresh(`${base}_ConvInteger`), attrs));
    // Output channels are axis 1 of NCHW...: scale and bias broadcast as [C, 1, ..., 1].
    scaleShape = [channels, ...new Array<number>(t.wDims.length - 2).fill(1)];
  } else {
    // MatMulInteger wants B as [K, N]: a Gemm with transB stores [N, K], so transpose it here.
    let wq = q;
    let dims = t.wDims;
    if (t.axis === 0) {
      const [nOut, k] = [t.wDims[0]!, t.wDims[1]!];
      wq = new Int8Array(q.length);
      for (let i = 0; i < nOut; i++) for (let j = 0; j < k; j++) wq[j * nOut + i] = q[i * k + j]!;
      dims = [k, nOut];
    }
    const w = e.addInitializer(`${t.w}_quantized`, "int8", dims, wq);
    const wz = e.addInitializer(`${t.w}_zero_point`, "int8", [channels], new Int8Array(channels));
    out.push(node("MatMulInteger", [x.q, w, x.zp, wz], [acc], e.fresh(`${base}_MatMulInteger`)));
    scaleShape = [channels];
  }
  const accF = e.fresh(`${y}_int32_as_float`);
  out.push(node("Cast", [acc], [accF], e.fresh(`${base}_Cast`), { to: intAttr(FLOAT) }));
  const ws = e.addInitializer(`${t.w}_scale`, "float32", scaleShape, scales);
  const s = e.fresh(`${y}_scale`);
  out.push(node("Mul", [x.scale, ws], [s], e.fresh(`${base}_scale_Mul`)));
  if (t.bias === "") {
    out.push(node("Mul", [accF, s], [y], e.fresh(`${base}_Mul`)));
    return;
  }
  const scaled = e.fresh(`${y}_scaled`);
  out.push(node("Mul", [accF, s], [scaled], e.fresh(`${base}_Mul`)));
  const bias = e.addInitializer(`${t.bias}_reshaped`, "float32", scaleShape, e.floats(t.bias)!);
  out.push(node("Add", [scaled, bias], [y], e.fresh(`${base}_bias_Add`)));
}
