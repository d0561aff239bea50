/**
 * The longest sequence a model's position table allows. A learned position embedding is a Gather from a weight
 * table whose indices count positions: a Range over the sequence (torch.onnx dynamo: `arange(seq)`), or a Slice of
 * a stored position_ids buffer (BERT's `position_ids[:, :seq]`). Past the table's first dimension the Gather
 * reads out of bounds (onnxruntime refuses it; PyTorch raises an index error), so that dimension is the limit.
 * Token ids come from a graph input, and a token-type table's indices from a GatherElements/Expand of zeros:
 * neither is followed, so a vocabulary never reads as a position limit.
 */
import type { Graph, Node } from "./ir.js";

export interface PositionLimit {
  /** Positions the table holds (its first dimension). */
  positions: number;
  /** The weight table, e.g. `transformer.wpe.weight`. */
  table: string;
}

/** Ops that carry position indices through unchanged in value (only their layout or type changes). */
const PASS_THROUGH = new Set(["Unsqueeze", "Squeeze", "Reshape", "Cast", "Identity", "Expand", "Flatten"]);

/** The smallest position table among the graph's Gathers, or undefined when it has none. */
export function positionLimit(graph: Graph): PositionLimit | undefined {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  let best: PositionLimit | undefined;
  for (const n of graph.nodes) {
    if (n.opType !== "Gather" || n.domain !== "") continue;
    const table = graph.initializers.get(n.inputs[0] ?? "");
    const axis = n.attrs["axis"];
    if (!table || table.dims.length < 2 || (axis?.type === "int" && axis.value !== 0)) continue;
    if (!countsPositions(n.inputs[1] ?? "", producer, graph)) continue;
    const positions = table.dims[0]!;
    if (best === undefined || positions < best.positions) best = { positions, table: table.name };
  }
  return best;
}

function countsPositions(name: string, producer: Map<string, Node>, graph: Graph): boolean {
  let at = name;
  // The chain from a Range to its Gather is a few ops long; the bound keeps a hostile graph linear.
  for (let steps = 0; steps < 16; steps++) {
    const p = producer.get(at);
    if (!p) return false;
    if (p.opType === "Range") return true;
    if (p.opType === "Slice") return graph.initializers.has(p.inputs[0] ?? "");
    if (!PASS_THROUGH.has(p.opType)) return false;
    at = p.inputs[0] ?? "";
  }
  return false;
}
