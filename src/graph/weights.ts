/**
 * Every weight a model holds, wherever the exporter put it: graph initializers (dense and sparse), Constant
 * nodes (value, sparse_value, value_float(s), value_int(s): paddle2onnx and spox keep all their weights
 * there), and the initializers and Constants of If/Loop/Scan bodies (silero-vad keeps one set of weights per
 * sample rate in an If's branches). Each tensor is counted once: a body nested in two places is still one
 * body, and a tensor is identified by where its bytes are. Runtimes load all of them: onnxruntime turns
 * Constant nodes into initializers when it loads a graph (graph.cc) and creates every subgraph's session
 * state with its initializers at load, whichever branch runs.
 */
import { byteSize, type DType } from "./dtype.js";
import type { Attr, Graph, Node, Tensor } from "./ir.js";

export interface WeightTensor {
  /** The initializer's name, or the Constant node's output. */
  name: string;
  dtype: DType;
  elements: number;
  bytes: number;
  where: "initializer" | "constant";
  /** Inside an If/Loop/Scan body (at any depth). */
  subgraph: boolean;
  /** The tensor itself (absent for value_float(s)/value_int(s), which are attribute numbers). */
  tensor?: Tensor;
}

/** The value a Constant node holds, as a tensor's type and size (undefined: strings, or not a Constant). */
export function constantValue(n: Node): Omit<WeightTensor, "name" | "where" | "subgraph"> | undefined {
  if (n.opType !== "Constant" || (n.domain !== "" && n.domain !== "ai.onnx")) return undefined;
  const a = n.attrs;
  const v = a["value"] ?? a["sparse_value"];
  if (v && (v.type === "tensor" || v.type === "sparse")) {
    const t = v.value;
    return t.dtype === "string" ? undefined : { dtype: t.dtype, elements: t.elements, bytes: t.bytes, tensor: t };
  }
  const numbers = (x: Attr | undefined, dtype: DType) => {
    const count = x?.type === "float" || x?.type === "int" ? 1 : x?.type === "floats" || x?.type === "ints" ? x.value.length : undefined;
    return count === undefined ? undefined : { dtype, elements: count, bytes: byteSize(dtype, count) };
  };
  return numbers(a["value_float"] ?? a["value_floats"], "float32") ?? numbers(a["value_int"] ?? a["value_ints"], "int64");
}

function subgraphsOf(n: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(n.attrs)) {
    if (a.type === "graph") out.push(a.value);
    else if (a.type === "graphs") out.push(...a.value);
  }
  return out;
}

/** Every weight of a graph and of its bodies, each once. */
export function graphWeights(graph: Graph): WeightTensor[] {
  const out: WeightTensor[] = [];
  const seenTensors = new Set<Tensor>();
  const seenGraphs = new Set<Graph>();
  const visit = (g: Graph, subgraph: boolean) => {
    if (seenGraphs.has(g)) return;
    seenGraphs.add(g);
    for (const t of g.initializers.values()) {
      if (seenTensors.has(t)) continue;
      seenTensors.add(t);
      out.push({ name: t.name, dtype: t.dtype, elements: t.elements, bytes: t.bytes, where: "initializer", subgraph, tensor: t });
    }
    for (const n of g.nodes) {
      const c = constantValue(n);
      if (c && !(c.tensor && seenTensors.has(c.tensor))) {
        if (c.tensor) seenTensors.add(c.tensor);
        out.push({ ...c, name: n.outputs[0] ?? n.name, where: "constant", subgraph });
      }
      for (const body of subgraphsOf(n)) visit(body, true);
    }
  };
  visit(graph, false);
  return out;
}

/** Parameters (elements) and bytes of every weight in the graph and its bodies. */
export function weightTotals(graph: Graph): { parameters: number; bytes: number } {
  let parameters = 0;
  let bytes = 0;
  for (const w of graphWeights(graph)) {
    parameters += w.elements;
    bytes += w.bytes;
  }
  return { parameters, bytes };
}
