import { test } from "node:test";
import assert from "node:assert/strict";
import type { Attr } from "../../graph/ir.js";
import { buildModel, constTensor, infer, type GraphSpec } from "../testing.js";

/** A subgraph attribute from the same compact spec the tests use for models. */
function graph(spec: GraphSpec): Attr {
  return { type: "graph", value: buildModel(spec).graph };
}

const shapeOf = (r: ReturnType<typeof infer>, name: string) => {
  const s = r.values.get(name)?.shape;
  return s ? `[${s.map(String).join(",")}]` : undefined;
};

/** A branch that outputs a Constant-free value: the outer input reshaped by its own ops. */
const thenBranch = graph({ inputs: {}, nodes: [{ op: "Identity", inputs: ["a"], outputs: ["t"] }], outputs: ["t"] });
const elseBranch = graph({ inputs: {}, nodes: [{ op: "Identity", inputs: ["b"], outputs: ["e"] }], outputs: ["e"] });

test("If with a known condition takes that branch only", () => {
  const r = infer({
    inputs: { a: { dtype: "float32", shape: [2, 3] }, b: { dtype: "float32", shape: [5, 3] } },
    initializers: [constTensor("c", "bool", [], [0])],
    nodes: [{ op: "If", inputs: ["c"], outputs: ["y"], attrs: { then_branch: thenBranch, else_branch: elseBranch } }],
    outputs: ["y"],
  });
  assert.equal(shapeOf(r, "y"), "[5,3]");
  assert.equal(r.warnings.length, 0);
});

test("If with an unknown condition merges branches: a differing dim becomes a bounded symbol, with a warning", () => {
  const r = infer({
    inputs: { c: { dtype: "bool", shape: [] }, a: { dtype: "float32", shape: [2, 3] }, b: { dtype: "float32", shape: [5, 3] } },
    nodes: [{ op: "If", inputs: ["c"], outputs: ["y"], attrs: { then_branch: thenBranch, else_branch: elseBranch } }],
    outputs: ["y"],
  });
  const y = r.values.get("y")!;
  assert.equal(y.dtype, "float32");
  assert.equal(y.shape?.[1], 3);
  assert.equal(typeof y.shape?.[0], "object");
  assert.equal(String(r.bounds.get(String(y.shape?.[0]))), "5");
  assert.match(r.warnings.join("\n"), /branches differ/);
});

/** Loop body: carried y += 1-element slice; scan output the carried value. */
function loopBody(): Attr {
  return graph({
    inputs: { i: { dtype: "int64", shape: [] }, cin: { dtype: "bool", shape: [] }, yin: { dtype: "float32", shape: [1] } },
    nodes: [
      { op: "Identity", inputs: ["cin"], outputs: ["cout"] },
      { op: "Add", inputs: ["yin", "yin"], outputs: ["yout"] },
      { op: "Identity", inputs: ["yout"], outputs: ["scan"] },
    ],
    outputs: ["cout", "yout", "scan"],
  });
}

test("Loop with a known trip count stacks scan outputs M times", () => {
  const r = infer({
    inputs: { y: { dtype: "float32", shape: [1] } },
    initializers: [constTensor("m", "int64", [], [7])],
    nodes: [{ op: "Loop", inputs: ["m", "", "y"], outputs: ["yf", "ys"], attrs: { body: loopBody() } }],
    outputs: ["yf", "ys"],
  });
  assert.equal(shapeOf(r, "yf"), "[1]");
  assert.equal(shapeOf(r, "ys"), "[7,1]");
});

test("Loop without a trip count: scan length is a fresh symbol and a warning", () => {
  const r = infer({
    inputs: { c: { dtype: "bool", shape: [] }, y: { dtype: "float32", shape: [1] } },
    nodes: [{ op: "Loop", inputs: ["", "c", "y"], outputs: ["yf", "ys"], attrs: { body: loopBody() } }],
    outputs: ["yf", "ys"],
  });
  assert.match(shapeOf(r, "ys") ?? "", /^\[loop_iters_\d+,1\]$/);
  assert.match(r.warnings.join("\n"), /data-dependent/);
});

test("Loop whose carried value grows generalises the changing dim", () => {
  const body = graph({
    inputs: { i: { dtype: "int64", shape: [] }, cin: { dtype: "bool", shape: [] }, yin: { dtype: "float32", shape: [2] } },
    nodes: [
      { op: "Identity", inputs: ["cin"], outputs: ["cout"] },
      { op: "Concat", inputs: ["yin", "yin"], outputs: ["yout"], attrs: { axis: 0 } },
    ],
    outputs: ["cout", "yout"],
  });
  const r = infer({
    inputs: { y: { dtype: "float32", shape: [2] } },
    initializers: [constTensor("m", "int64", [], [3])],
    nodes: [{ op: "Loop", inputs: ["m", "", "y"], outputs: ["yf"], attrs: { body } }],
    outputs: ["yf"],
  });
  assert.match(r.warnings.join("\n"), /change per iteration/);
  const d = r.values.get("yf")?.shape?.[0];
  assert.equal(typeof d, "object");
  // 2 -> 4 -> 8 -> 16: the two first sizes bound nothing, so no bound is recorded.
  assert.deepEqual([...r.bounds.keys()].filter((k) => k.startsWith("loop_dim")), []);
});

const scanBody = graph({
  inputs: { s: { dtype: "float32", shape: [2] }, x: { dtype: "float32", shape: [2] } },
  nodes: [
    { op: "Add", inputs: ["s", "x"], outputs: ["so"] },
    { op: "Identity", inputs: ["so"], outputs: ["out"] },
  ],
  outputs: ["so", "out"],
});

test("Scan (opset 9+) with scan_input_axes and scan_output_axes", () => {
  const r = infer({
    inputs: { init: { dtype: "float32", shape: [2] }, x: { dtype: "float32", shape: [2, 5] } },
    nodes: [
      {
        op: "Scan",
        inputs: ["init", "x"],
        outputs: ["final", "ys"],
        attrs: { body: scanBody, num_scan_inputs: 1, scan_input_axes: [1], scan_output_axes: [-1] },
      },
    ],
    outputs: ["final", "ys"],
    opset: 11,
  });
  assert.equal(shapeOf(r, "final"), "[2]");
  assert.equal(shapeOf(r, "ys"), "[2,5]");
});

test("Scan opset 8: batch dim first, scan axis 1, optional sequence_lens", () => {
  const r = infer({
    inputs: { init: { dtype: "float32", shape: ["b", 2] }, x: { dtype: "float32", shape: ["b", 4, 2] } },
    nodes: [{ op: "Scan", inputs: ["", "init", "x"], outputs: ["final", "ys"], attrs: { body: scanBody, num_scan_inputs: 1 } }],
    outputs: ["final", "ys"],
    opset: 8,
  });
  assert.equal(shapeOf(r, "final"), "[b,2]");
  assert.equal(shapeOf(r, "ys"), "[b,4,2]");
});

test("Loop carrying a sequence that grows: the final length is unknown, the element shape is kept", () => {
  const body = graph({
    inputs: { i: { dtype: "int64", shape: [] }, cin: { dtype: "bool", shape: [] }, sin: { dtype: "float32", shape: [] } },
    nodes: [
      { op: "Identity", inputs: ["cin"], outputs: ["cout"] },
      { op: "SequenceInsert", inputs: ["sin", "x"], outputs: ["sout"] },
    ],
    outputs: ["cout", "sout"],
  });
  const r = infer({
    inputs: { x: { dtype: "float32", shape: [2, 3] } },
    initializers: [constTensor("m", "int64", [], [4])],
    nodes: [
      { op: "SequenceEmpty", inputs: [], outputs: ["e"] },
      { op: "Loop", inputs: ["m", "", "e"], outputs: ["s"], attrs: { body } },
      { op: "SequenceLength", inputs: ["s"], outputs: ["n"] },
    ],
    outputs: ["n"],
  });
  const s = r.values.get("s")!;
  assert.equal(s.kind, "sequence");
  assert.equal(s.items, undefined);
  assert.deepEqual(s.elem?.shape, [2, 3]);
  assert.equal(r.values.get("n")?.value, undefined);
});

test("an If that returns an outer initializer yields a plain value: its consumers read no parameters", () => {
  const passWeight = graph({ inputs: {}, nodes: [], outputs: ["w"] });
  const r = infer({
    inputs: {},
    initializers: [constTensor("c", "bool", [], [1]), constTensor("w", "float32", [64], new Array<number>(64).fill(0))],
    nodes: [
      { op: "If", inputs: ["c"], outputs: ["y"], attrs: { then_branch: passWeight, else_branch: passWeight } },
      { op: "Relu", inputs: ["y"], outputs: ["z"] },
    ],
    outputs: ["z"],
  });
  assert.equal(shapeOf(r, "z"), "[64]");
  assert.equal(r.nodes.find((n) => n.node.opType === "Relu")?.paramBytes, 0);
});
