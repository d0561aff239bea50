/**
 * The order ORT executes nodes in: GraphViewer's topological order, a reverse depth-first search from the
 * graph's sinks that emits a node once all its producers are emitted (post-order). A branch is walked
 * to its roots before its siblings, so a tensor needed late (the V of attention) is computed late:
 * lifetimes differ from the file's order.
 */
import type { OrtNode } from "./types.js";

export function ortExecutionOrder(nodes: readonly OrtNode[], graphOutputs: readonly string[]): OrtNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o !== "" && producer.set(o, i)));
  const consumed = new Set<number>();
  for (const n of nodes) for (const x of n.inputs) {
    const p = producer.get(x);
    if (p !== undefined) consumed.add(p);
  }
  // Sinks: nodes nobody reads (graph outputs' producers among them), last first as ORT's stack pops them.
  const sinks: number[] = [];
  nodes.forEach((_, i) => !consumed.has(i) && sinks.push(i));
  for (const o of graphOutputs) {
    const p = producer.get(o);
    if (p !== undefined && !sinks.includes(p)) sinks.push(p);
  }
  const order: OrtNode[] = [];
  const visited = new Set<number>();
  const stack: [number, boolean][] = sinks.map((i) => [i, false]);
  while (stack.length > 0) {
    const [i, leaving] = stack.pop()!;
    if (leaving) {
      order.push(nodes[i]!);
      continue;
    }
    if (visited.has(i)) continue;
    visited.add(i);
    stack.push([i, true]);
    const inputs = [...new Set(nodes[i]!.inputs.map((x) => producer.get(x)).filter((p): p is number => p !== undefined))];
    // Producers pushed lowest index first, so the highest-index producer is walked first (ORT 1.30 on
    // vit_b_16: the Softmax branch, created after V's Reshape, runs before it).
    inputs.sort((a, b) => a - b);
    for (const p of inputs) if (!visited.has(p)) stack.push([p, false]);
  }
  return order;
}
