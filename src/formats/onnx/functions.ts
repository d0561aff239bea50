/**
 * Model-local functions (ModelProto.functions) are inlined into the graph, so every later stage sees only
 * ONNX and contrib ops. Internal names are prefixed with the calling node's name to stay unique.
 */
import { ModelFormatError } from "../../errors.js";
import type { Attr, Graph, Node } from "../../graph/ir.js";
import { quote } from "../quote.js";

export interface FunctionDef {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: string[];
  defaults: Record<string, Attr>;
  nodes: Node[];
}

/** Functions calling functions: deeper than this is a recursion, not a model. */
export const MAX_INLINE_DEPTH = 16;
/** Inlining can multiply nodes; past this the model is refused rather than expanded without bound (as MAX_NODES in decode.ts). */
export const MAX_INLINED_NODES = 1_000_000;

export function inlineFunctions(graph: Graph, functions: FunctionDef[], warnings: string[]): Graph {
  const byKey = new Map(functions.map((f) => [`${f.domain}::${f.name}`, f]));
  let count = 0;
  const used = new Set<string>();
  const expand = (nodes: Node[], depth: number): Node[] => {
    const out: Node[] = [];
    for (const node of nodes) {
      const fn = byKey.get(`${node.domain}::${node.opType}`);
      if (!fn) {
        out.push(node);
        if (++count > MAX_INLINED_NODES) throw new ModelFormatError(`more than ${MAX_INLINED_NODES} nodes after inlining functions`);
        continue;
      }
      if (depth >= MAX_INLINE_DEPTH) throw new ModelFormatError(`function ${quote(fn.name)} nests deeper than ${MAX_INLINE_DEPTH}`);
      used.add(fn.name);
      for (const inner of expand(instantiate(fn, node), depth + 1)) out.push(inner);
    }
    return out;
  };
  const nodes = expand(graph.nodes, 0);
  if (used.size > 0) warnings.push(`inlined model-local functions: ${[...used].sort().join(", ")}`);
  return { ...graph, nodes };
}

function instantiate(fn: FunctionDef, call: Node): Node[] {
  const prefix = `${call.name || call.opType}/${fn.name}/`;
  const rename = new Map<string, string>();
  fn.inputs.forEach((formal, i) => rename.set(formal, call.inputs[i] ?? ""));
  fn.outputs.forEach((formal, i) => rename.set(formal, call.outputs[i] ?? `${prefix}${formal}`));
  const mapName = (n: string): string => (n === "" ? "" : rename.get(n) ?? `${prefix}${n}`);
  return fn.nodes.map((n) => {
    const attrs: Record<string, Attr> = {};
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.type === "ref") {
        const bound = call.attrs[a.ref] ?? fn.defaults[a.ref];
        if (bound) attrs[k] = bound;
      } else attrs[k] = a;
    }
    return {
      name: `${prefix}${n.name || n.opType}`,
      opType: n.opType,
      domain: n.domain,
      inputs: n.inputs.map(mapName),
      outputs: n.outputs.map(mapName),
      attrs,
    };
  });
}
