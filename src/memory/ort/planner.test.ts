import { test } from "node:test";
import assert from "node:assert/strict";
import type { OrtGraph, OrtNode, OrtTensor } from "./graph.js";
import { planAllocations } from "./planner.js";
import { simulateRuns } from "./session.js";

function graph(nodes: [string, string[], string[]][], shapes: Record<string, number[]>, outputs: string[], dynamic: string[] = []): OrtGraph {
  const tensors = new Map<string, OrtTensor>();
  for (const [name, shape] of Object.entries(shapes)) {
    tensors.set(name, { name, dtype: "float32", shape, bytes: shape.reduce((a, b) => a * b, 4), staticShape: !dynamic.includes(name) });
  }
  const ns: OrtNode[] = nodes.map(([op, inputs, outs], i) => ({ name: `n${i}`, op, inputs, outputs: outs, attrs: {} }));
  return { nodes: ns, tensors, inputs: ["x"], outputs, constants: new Set(["w"]), constantBytes: 0, reorderedWeightBytes: 0, warnings: [] };
}

test("an activation takes over its input's buffer when it is the last reader; Reshape aliases", () => {
  const g = graph(
    [["Conv", ["x", "w"], ["a"]], ["Relu", ["a"], ["b"]], ["Reshape", ["b", "s"], ["c"]], ["Gemm", ["c", "w"], ["y"]]],
    { x: [1, 8, 4, 4], a: [1, 8, 4, 4], b: [1, 8, 4, 4], c: [1, 128], y: [1, 10] },
    ["y"],
  );
  const p = planAllocations(g);
  assert.equal(p.bufferOf.get("b"), p.bufferOf.get("a"));
  assert.equal(p.bufferOf.get("c"), p.bufferOf.get("a"));
  assert.equal(p.buffers.length, 2); // a (shared by b, c) and the output y
  assert.deepEqual(p.events.map((e) => `${e.kind}${e.id}@${e.node}`), ["alloc0@0", "alloc1@3", "free0@3"]);
});

test("a freed buffer of the same shape is reused (no new arena allocation); unknown shapes never are", () => {
  const nodes: [string, string[], string[]][] = [
    ["Conv", ["x", "w"], ["a"]], ["Conv", ["a", "w"], ["b"]], ["Conv", ["b", "w"], ["c"]], ["Gemm", ["c", "w"], ["y"]],
  ];
  const shapes = { x: [1, 8, 4, 4], a: [1, 8, 4, 4], b: [1, 8, 4, 4], c: [1, 8, 4, 4], y: [1, 10] };
  const p = planAllocations(graph(nodes, shapes, ["y"]));
  assert.equal(p.bufferOf.get("c"), p.bufferOf.get("a"));
  assert.equal(p.events.filter((e) => e.kind === "alloc").length, 3);
  const q = planAllocations(graph(nodes, shapes, ["y"], ["c"]));
  assert.notEqual(q.bufferOf.get("c"), q.bufferOf.get("a"));
  assert.equal(q.events.filter((e) => e.kind === "alloc").length, 4);
});

test("the second run's pattern block comes on top of what the first run wrote", () => {
  const MiB = 1 << 20;
  const g = graph(
    [["Conv", ["x", "w"], ["a"]], ["Conv", ["a", "w"], ["b"]], ["Gemm", ["b", "w"], ["y"]]],
    { x: [1, 4, 256, 256], a: [1, 8, 256, 256], b: [1, 16, 256, 256], y: [1, 10] },
    ["y"],
  );
  const s = simulateRuns(planAllocations(g), g.nodes.length);
  assert.equal(s.patternPeak, 6 * MiB);
  assert.ok(s.run1Touched >= 6 * MiB && s.run1Touched < 7 * MiB, `run1 ${s.run1Touched}`);
  assert.ok(s.run2Touched >= s.run1Touched + s.patternPeak, `run2 ${s.run2Touched}`);
});

test("ORT's order: post-order DFS from the sinks, the highest-index producer first (V after the softmax)", async () => {
  const { ortExecutionOrder } = await import("./order.js");
  const g = graph(
    [
      ["MatMul", ["x", "w"], ["qkv"]],
      ["Slice", ["qkv"], ["v"]],
      ["Slice", ["qkv"], ["q"]],
      ["Softmax", ["q"], ["p"]],
      ["MatMul", ["p", "v"], ["y"]],
    ],
    { x: [4, 8], qkv: [4, 24], v: [4, 8], q: [4, 8], p: [4, 8], y: [4, 8] },
    ["y"],
  );
  // The last MatMul's producers: Softmax (index 3) is walked before V's Slice (index 1).
  assert.deepEqual(ortExecutionOrder(g.nodes, g.outputs).map((n) => n.outputs[0]), ["qkv", "q", "p", "v", "y"]);
  const swapped = [g.nodes[0]!, g.nodes[2]!, g.nodes[3]!, g.nodes[1]!, g.nodes[4]!];
  assert.deepEqual(ortExecutionOrder(swapped, g.outputs).map((n) => n.outputs[0]), ["qkv", "v", "q", "p", "y"]);
});

test("BiasGelu's scratch (its input's size) is taken after its output and given back before its inputs; the pattern never sees it", () => {
  const MiB = 1 << 20;
  const g = graph(
    [["MatMul", ["x", "w"], ["h"]], ["ms.BiasGelu", ["h", "w"], ["g"]], ["MatMul", ["g", "w"], ["y"]]],
    { x: [1, 256, 256], h: [1, 256, 1024], g: [1, 256, 1024], y: [1, 256, 256] },
    ["y"],
  );
  const p = planAllocations(g);
  const at1 = p.events.filter((e) => e.node === 1).map((e) => `${e.kind}${e.scratch ? "-scratch" : ""}`);
  assert.deepEqual(at1, ["alloc", "alloc-scratch", "free-scratch", "free"]);
  const scratch = p.events.find((e) => e.scratch && e.kind === "alloc");
  assert.equal(scratch?.kind === "alloc" ? scratch.bytes : 0, MiB);
  const s = simulateRuns(p, g.nodes.length);
  // h and g are live together (2 MiB), the scratch on top while BiasGelu runs; the pattern holds h and g only.
  assert.equal(s.run1PeakLive, 3 * MiB);
  assert.equal(s.patternPeak, 2 * MiB);
  // Without a bias input FastGelu computes in its output: no scratch.
  const q = planAllocations(graph([["ms.FastGelu", ["x"], ["y"]]], { x: [1, 256, 256], y: [1, 256, 256] }, ["y"]));
  assert.equal(q.events.filter((e) => e.scratch).length, 0);
});

test("the session's outputs are not in the memory pattern (kAllocateOutput is not traced); run 2 takes them from the arena", () => {
  const MiB = 1 << 20;
  const g = graph(
    [["Conv", ["x", "w"], ["side"]], ["Conv", ["x", "w"], ["a"]], ["Gemm", ["a", "w"], ["y"]]],
    { x: [1, 256, 1024], side: [1, 256, 1024], a: [1, 256, 1024], y: [1, 10] },
    ["side", "y"],
  );
  const p = planAllocations(g);
  assert.deepEqual(p.events.filter((e) => e.kind === "alloc" && e.output).map((e) => e.id), [0, 2]);
  const s = simulateRuns(p, g.nodes.length);
  // run 1 holds the side output and a together (2 MiB); the pattern only a.
  assert.equal(s.run1PeakLive, 2 * MiB + 40);
  assert.equal(s.patternPeak, MiB);
});
