/**
 * Every node inference saw, If/Loop/Scan body nodes right after their parent: the order the layer table
 * and `profile` list them in. A body node carries its parent's path (`If_0/then_branch`), and its values
 * are looked up in its body first, then in the enclosing graphs (ONNX scoping).
 */
import type { InferenceResult, NodeResult } from "./engine.js";
import type { TensorInfo } from "./types.js";
import type { Node } from "../graph/ir.js";

export interface FlatNode {
  result: NodeResult;
  /** `<parent node>/<graph attribute>` for body nodes, nested bodies joined by '/'; absent at top level. */
  parent?: string;
  /** The nodes of its own graph in file order (onnxruntime names an unnamed node by its place there). */
  siblings: readonly Node[];
  value(name: string): TensorInfo | undefined;
}

export function flattenBodies(inference: InferenceResult, topLevel: readonly Node[]): FlatNode[] {
  const out: FlatNode[] = [];
  const walk = (nodes: readonly NodeResult[], siblings: readonly Node[], lookup: (n: string) => TensorInfo | undefined, parent: string | undefined) => {
    for (const result of nodes) {
      out.push({ result, siblings, value: lookup, ...(parent !== undefined ? { parent } : {}) });
      const name = result.node.name || result.node.opType;
      for (const b of result.bodies ?? []) {
        const inner = (n: string) => b.values.get(n) ?? lookup(n);
        walk(b.nodes, b.graph.nodes, inner, `${parent !== undefined ? `${parent}/` : ""}${name}/${b.attribute}`);
      }
    }
  };
  walk(inference.nodes, topLevel, (n) => inference.values.get(n), undefined);
  return out;
}
