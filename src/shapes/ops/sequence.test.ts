import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, infer, inferOp } from "../testing.js";

const f32 = (shape: (number | string)[]) => ({ dtype: "float32" as const, shape });
const shapeOf = (r: ReturnType<typeof infer>, name: string) => {
  const s = r.values.get(name)?.shape;
  return s ? `[${s.map(String).join(",")}]` : undefined;
};

test("Construct, Insert at a known position, Erase and At keep each item's exact shape", () => {
  const r = infer({
    inputs: { x: f32([2, 3]), y: f32([4, 3]), z: f32([6, 3]) },
    initializers: [constTensor("p0", "int64", [], [0]), constTensor("pm1", "int64", [], [-1]), constTensor("p1", "int64", [], [1])],
    nodes: [
      { op: "SequenceConstruct", inputs: ["x", "y"], outputs: ["s1"] },
      { op: "SequenceInsert", inputs: ["s1", "z", "p0"], outputs: ["s2"] }, // [z, x, y]
      { op: "SequenceErase", inputs: ["s2", "pm1"], outputs: ["s3"] }, // [z, x]
      { op: "SequenceAt", inputs: ["s3", "p1"], outputs: ["a"] },
      { op: "SequenceLength", inputs: ["s3"], outputs: ["n"] },
    ],
    outputs: ["a", "n"],
  });
  assert.equal(shapeOf(r, "a"), "[2,3]");
  assert.deepEqual(r.values.get("n")?.value, [2]);
  assert.equal(r.values.get("s3")?.kind, "sequence");
});

test("SequenceAt at an unknown position joins the items, bounded, with a warning", () => {
  const r = infer({
    inputs: { x: f32([2, 3]), y: f32([4, 3]), p: { dtype: "int64", shape: [] } },
    nodes: [
      { op: "SequenceConstruct", inputs: ["x", "y"], outputs: ["s"] },
      { op: "SequenceAt", inputs: ["s", "p"], outputs: ["a"] },
    ],
    outputs: ["a"],
  });
  const a = r.values.get("a")!;
  assert.equal(a.shape?.[1], 3);
  assert.equal(String(r.bounds.get(String(a.shape?.[0]))), "4");
  assert.match(r.warnings.join("\n"), /position unknown/);
});

test("SplitToSequence: no split with keepdims=0, a scalar split with a short last chunk, explicit sizes", () => {
  const noSplit = infer({
    inputs: { x: f32([3, 4]) },
    nodes: [
      { op: "SplitToSequence", inputs: ["x"], outputs: ["s"], attrs: { axis: 0, keepdims: 0 } },
      { op: "SequenceLength", inputs: ["s"], outputs: ["n"] },
    ],
    outputs: ["n"],
  });
  assert.deepEqual(noSplit.values.get("n")?.value, [3]);
  assert.deepEqual(noSplit.values.get("s")?.items?.[0]?.shape, [4]);

  const scalar = infer({
    inputs: { x: f32([2, 7]) },
    initializers: [constTensor("k", "int64", [], [3])],
    nodes: [{ op: "SplitToSequence", inputs: ["x", "k"], outputs: ["s"], attrs: { axis: 1 } }],
    outputs: ["s"],
  });
  assert.deepEqual(scalar.values.get("s")?.items?.map((i) => i.shape), [[2, 3], [2, 3], [2, 1]]);

  const sizes = infer({
    inputs: { x: f32([5]) },
    initializers: [constTensor("k", "int64", [2], [2, 3])],
    nodes: [{ op: "SplitToSequence", inputs: ["x", "k"], outputs: ["s"] }],
    outputs: ["s"],
  });
  assert.deepEqual(sizes.values.get("s")?.items?.map((i) => i.shape), [[2], [3]]);
});

test("ConcatFromSequence concatenates or stacks (new_axis) the known items", () => {
  const base = {
    inputs: { x: f32([2, 3]), y: f32([2, 5]) },
    outputs: ["c"],
  };
  const cat = infer({ ...base, nodes: [
    { op: "SequenceConstruct", inputs: ["x", "y"], outputs: ["s"] },
    { op: "ConcatFromSequence", inputs: ["s"], outputs: ["c"], attrs: { axis: -1 } },
  ] });
  assert.equal(shapeOf(cat, "c"), "[2,8]");
  const stack = infer({ ...base, inputs: { x: f32([2, 3]), y: f32([2, 3]) }, nodes: [
    { op: "SequenceConstruct", inputs: ["x", "y"], outputs: ["s"] },
    { op: "ConcatFromSequence", inputs: ["s"], outputs: ["c"], attrs: { axis: -1, new_axis: 1 } },
  ] });
  assert.equal(shapeOf(stack, "c"), "[2,3,2]");
});

test("SequenceEmpty then inserts: its dtype attribute and the inserted items", () => {
  const r = infer({
    inputs: { x: f32(["n", 3]) },
    nodes: [
      { op: "SequenceEmpty", inputs: [], outputs: ["e"], attrs: { dtype: 1 } },
      { op: "SequenceInsert", inputs: ["e", "x"], outputs: ["s"] },
      { op: "ConcatFromSequence", inputs: ["s"], outputs: ["c"], attrs: { axis: 0 } },
    ],
    outputs: ["c"],
  });
  assert.equal(shapeOf(r, "c"), "[n,3]");
});

test("Optional wraps a value; OptionalHasElement and OptionalGetElement see through it", () => {
  const r = infer({
    inputs: { x: f32([4]) },
    nodes: [
      { op: "Optional", inputs: ["x"], outputs: ["o"] },
      { op: "OptionalHasElement", inputs: ["o"], outputs: ["h"] },
      { op: "OptionalGetElement", inputs: ["o"], outputs: ["g"] },
    ],
    outputs: ["h", "g"],
  });
  assert.deepEqual(r.values.get("h")?.value, [1]);
  assert.equal(r.values.get("h")?.dtype, "bool");
  assert.equal(shapeOf(r, "g"), "[4]");
});

test("SequenceLength of a non-sequence is an error, not a guess", () => {
  const r = inferOp("SequenceLength", [f32([3])]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /not a sequence/);
});

test("an empty Optional takes its element type from the 'type' attribute and says it has no element", () => {
  const r = infer({
    inputs: {},
    nodes: [
      { op: "Optional", inputs: [], outputs: ["o"], attrs: { type: { type: "type", value: { kind: "tensor", dtype: "float32", shape: [2] } } } },
      { op: "OptionalHasElement", inputs: ["o"], outputs: ["h"] },
      { op: "OptionalGetElement", inputs: ["o"], outputs: ["g"] },
    ],
    outputs: ["h"],
  });
  assert.deepEqual(r.values.get("o")?.elem?.shape, [2]);
  assert.deepEqual(r.values.get("h")?.value, [0]);
  assert.equal(r.values.get("g")?.shape, undefined);
  assert.match(r.warnings.join("\n"), /known to be empty/);
});
