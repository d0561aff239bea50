/** Node counts by op (with fused activation and Conv Sum input): the modelled ORT graph vs a real one. */
import type { Graph } from "../../graph/ir.js";
import type { OrtGraph } from "./types.js";

function opKey(op: string, activation: string | undefined, sum: boolean): string {
  return `${op}${activation ? `+${activation}` : ""}${sum ? "+Sum" : ""}`;
}

/** Op histogram of a real optimized ONNX graph, in OrtGraph's op naming. */
export function realHistogram(g: Graph): Record<string, number> {
  const h: Record<string, number> = {};
  for (const n of g.nodes) {
    const prefix = n.domain === "com.microsoft.nchwc" ? "nchwc." : n.domain === "com.microsoft" ? "ms." : "";
    const act = n.attrs["activation"]?.type === "string" ? n.attrs["activation"].value : undefined;
    const k = opKey(prefix + n.opType, act, n.opType === "Conv" && (n.inputs[3] ?? "") !== "");
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
}

export function modelledHistogram(g: OrtGraph): Record<string, number> {
  const h: Record<string, number> = {};
  for (const n of g.nodes) {
    const k = opKey(n.op, n.activation, n.op === "nchwc.Conv" && (n.inputs[3] ?? "") !== "");
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
}

