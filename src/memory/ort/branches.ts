/**
 * If nodes whose condition is known (a constant, or an input given with --value) run one branch, and
 * ONNX Runtime runs that branch's nodes on the same CPU allocator as the outer graph
 * (onnxruntime/core/providers/cpu/controlflow/if.cc: IfImpl executes the chosen subgraph's session
 * state; its outputs are allocated as the If node's outputs, so no copy). For the memory model the
 * branch is inlined: its nodes take the If's place, the branch outputs are renamed to the If's outputs,
 * and the branch's initializers are constants. An If whose condition is unknown, and Loop/Scan bodies
 * (run once per iteration), stay single nodes.
 */
import type { InferenceResult, NodeResult } from "../../shapes/engine.js";
import type { TensorInfo } from "../../shapes/types.js";

export interface InlinedInference {
  inference: InferenceResult;
  /** Initializers of the inlined branches: constants, as the outer graph's are. */
  constants: string[];
}

export function inlineKnownBranches(inference: InferenceResult): InlinedInference {
  if (!inference.nodes.some(takenBranch)) return { inference, constants: [] };
  const values = new Map<string, TensorInfo>(inference.values);
  const constants: string[] = [];
  const flatten = (results: readonly NodeResult[]): NodeResult[] => {
    const out: NodeResult[] = [];
    for (const r of results) {
      const branch = takenBranch(r);
      if (!branch) {
        out.push(r);
        continue;
      }
      const rename = new Map<string, string>();
      branch.graph.outputs.forEach((o, k) => rename.set(o.name, r.node.outputs[k] ?? o.name));
      for (const [name, info] of branch.values) if (!rename.has(name)) values.set(name, info);
      constants.push(...branch.graph.initializers.keys());
      const to = (x: string) => rename.get(x) ?? x;
      for (const b of flatten(branch.nodes)) out.push({ ...b, node: { ...b.node, inputs: b.node.inputs.map(to), outputs: b.node.outputs.map(to) } });
    }
    return out;
  };
  return { inference: { ...inference, nodes: flatten(inference.nodes), values }, constants };
}

/** The one branch an If takes, when inference knew its condition and every branch output is computed by a
 *  node of the branch (an output that is an outer value or an initializer is copied by ORT: kept as an If). */
function takenBranch(r: NodeResult): NonNullable<NodeResult["bodies"]>[number] | undefined {
  if (r.node.opType !== "If" || r.node.domain !== "" || r.bodies?.length !== 1) return undefined;
  const branch = r.bodies[0]!;
  const produced = new Set(branch.nodes.flatMap((n) => n.node.outputs));
  if (!branch.graph.outputs.every((o) => produced.has(o.name))) return undefined;
  if (branch.graph.outputs.length !== r.node.outputs.length) return undefined;
  return branch;
}
