/** Execution order: ONNX requires nodes in topological order; files that break the rule are sorted (Kahn). */
import { ModelFormatError } from "../errors.js";
import type { Graph, Node } from "./ir.js";

/** Names a subgraph reads from the enclosing scope (they order the owning node after their producers). */
export function outerReads(node: Node): string[] {
  const out: string[] = [];
  for (const a of Object.values(node.attrs)) {
    const graphs = a.type === "graph" ? [a.value] : a.type === "graphs" ? a.value : [];
    for (const g of graphs) out.push(...graphOuterReads(g));
  }
  return out;
}

/**
 * A graph's reads from outside it, computed once per graph: without the cache, ordering each nested body
 * walked every body inside it again (quadratic in nesting depth, and repeated on every re-inference).
 */
const outerReadsCache = new WeakMap<Graph, readonly string[]>();

function graphOuterReads(g: Graph): readonly string[] {
  const cached = outerReadsCache.get(g);
  if (cached) return cached;
  const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) n.outputs.forEach((o) => local.add(o));
  const out = new Set<string>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i !== "" && !local.has(i)) out.add(i);
    for (const i of outerReads(n)) if (!local.has(i)) out.add(i);
  }
  const reads = [...out];
  outerReadsCache.set(g, reads);
  return reads;
}

export function executionOrder(graph: Graph): Node[] {
  const produced = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== "" && produced.set(o, i)));
  // Fast path: already topological (names produced elsewhere, such as outer scopes, do not matter).
  const seen = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  let sorted = true;
  for (const n of graph.nodes) {
    for (const i of n.inputs) if (i !== "" && !seen.has(i) && produced.has(i)) sorted = false;
    if (!sorted) break;
    for (const i of outerReads(n)) if (!seen.has(i) && produced.has(i)) sorted = false;
    n.outputs.forEach((o) => seen.add(o));
  }
  if (sorted) return graph.nodes;
  const deps = graph.nodes.map((n) => {
    const s = new Set<number>();
    for (const i of [...n.inputs, ...outerReads(n)]) {
      const p = produced.get(i);
      if (p !== undefined) s.add(p);
    }
    return s;
  });
  const users: number[][] = graph.nodes.map(() => []);
  const pending = deps.map((d, i) => {
    d.forEach((p) => users[p]!.push(i));
    return d.size;
  });
  const ready: number[] = [];
  pending.forEach((c, i) => c === 0 && ready.push(i));
  const order: Node[] = [];
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k]!;
    order.push(graph.nodes[i]!);
    for (const u of users[i]!) if (--pending[u]! === 0) ready.push(u);
  }
  if (order.length !== graph.nodes.length) throw new ModelFormatError("the graph has a cycle");
  return order;
}
