/**
 * Which nodes a quantizer may rewrite, and how their weights are laid out. One place for the rules, so
 * static, dynamic and 4-bit quantization agree on what "a Conv with constant weights" means.
 */
import type { Node } from "../graph/ir.js";
import type { GraphEditor } from "./graph-edit.js";

export interface WeightTarget {
  node: Node;
  kind: "Conv" | "MatMul" | "Gemm";
  /** The activation input. */
  x: string;
  /** The constant weight and its float values. */
  w: string;
  wDims: number[];
  wValues: Float32Array;
  /** The axis of output channels in w: Conv 0, MatMul 1, Gemm 0 with transB else 1. */
  axis: number;
  /** Bias input ("" when none), 1-D of output-channel length; Gemm's C only when it is such a vector. */
  bias: string;
}

/** Why a node is not a target, for the report ("kept float: ..."). */
export type Skip = { node: Node; reason: string };

export function weightTarget(e: GraphEditor, n: Node): WeightTarget | Skip | undefined {
  if (n.domain !== "" || !["Conv", "MatMul", "Gemm"].includes(n.opType)) return undefined;
  const [x = "", w = "", b = ""] = n.inputs;
  const wt = e.constant(w);
  if (!wt) return { node: n, reason: "weight is not a constant" };
  if (wt.dtype !== "float32") return { node: n, reason: `weight is ${wt.dtype}, only float32 is quantized` };
  const dims = wt.dims;
  let axis: number;
  if (n.opType === "Conv") {
    if (dims.length < 3) return { node: n, reason: `Conv weight of rank ${dims.length}` };
    axis = 0;
  } else if (n.opType === "MatMul") {
    if (dims.length !== 2) return { node: n, reason: `MatMul weight of rank ${dims.length} (only 2-D weights are quantized)` };
    axis = 1;
  } else {
    const attr = (k: string, d: number) => {
      const a = n.attrs[k];
      return a && (a.type === "int" || a.type === "float") ? a.value : d;
    };
    if (attr("transA", 0) !== 0) return { node: n, reason: "Gemm with transA" };
    if (attr("alpha", 1) !== 1) return { node: n, reason: "Gemm with alpha != 1" };
    if (dims.length !== 2) return { node: n, reason: `Gemm weight of rank ${dims.length}` };
    axis = attr("transB", 0) !== 0 ? 0 : 1;
    if (b !== "" && attr("beta", 1) !== 1) return { node: n, reason: "Gemm with beta != 1 and a bias" };
  }
  const channels = dims[axis]!;
  let bias = "";
  if (b !== "") {
    const bt = e.constant(b);
    if (bt && bt.dtype === "float32" && bt.elements === channels && (bt.dims.length === 1 || n.opType !== "Gemm")) bias = b;
    else return { node: n, reason: "bias is not a constant float vector of the output channels" };
  }
  return { node: n, kind: n.opType as WeightTarget["kind"], x, w, wDims: dims, wValues: e.floats(w)!, axis, bias };
}

export function isSkip(t: WeightTarget | Skip | undefined): t is Skip {
  return t !== undefined && "reason" in t;
}

/** The node's weight target when it is to be quantized; a kept or unquantizable one is recorded in `skipped`. */
export function quantizableTarget(e: GraphEditor, n: Node, kept: ReadonlySet<Node>, skipped: Skip[]): WeightTarget | undefined {
  if (kept.has(n)) {
    skipped.push({ node: n, reason: "kept float by --keep-float" });
    return undefined;
  }
  const t = weightTarget(e, n);
  if (isSkip(t)) {
    skipped.push(t);
    return undefined;
  }
  return t;
}

/**
 * --keep-float: `first` and `last` name the first and last weighted layers in graph order; anything else
 * is a node name (or the name of its output tensor).
 */
export function keptFloat(nodes: readonly Node[], keep: readonly string[], isWeighted: (n: Node) => boolean): Set<Node> {
  const out = new Set<Node>();
  const weighted = nodes.filter(isWeighted);
  for (const k of keep) {
    if (k === "first" && weighted[0]) out.add(weighted[0]);
    else if (k === "last" && weighted.length) out.add(weighted[weighted.length - 1]!);
    else for (const n of nodes) if (n.name === k || n.outputs.includes(k)) out.add(n);
  }
  return out;
}
