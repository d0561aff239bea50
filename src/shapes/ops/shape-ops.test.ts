import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString, equal, type Dim } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { constTensor, infer, inferOp, type GraphSpec } from "../testing.js";

const i64 = (name: string, values: number[], shape = [values.length]) => constTensor(name, "int64", shape, values);
const str = (v: readonly Dim[] | undefined) => (v ? `[${v.map(dimToString).join(",")}]` : undefined);

/** Infer a small graph; returns shape and value strings per tensor name, and the warnings. */
function run(spec: GraphSpec) {
  const r = infer(spec);
  return {
    shape: (n: string) => str(r.values.get(n)?.shape),
    value: (n: string) => str(r.values.get(n)?.value),
    dtype: (n: string) => r.values.get(n)?.dtype,
    warnings: r.warnings.join("\n"),
  };
}

test("Reshape infers -1 symbolically and copies 0 dims", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 3, 4] };
  assert.deepEqual(inferOp("Reshape", [x, i64("t", [0, -1])]).shapes, ["[batch,12]"]);
  assert.deepEqual(inferOp("Reshape", [x, i64("t", [-1, 4])]).shapes, ["[3*batch,4]"]);
  // allowzero (opset 14): 0 is a real zero-sized dim, so 12*batch elements can not become [0, 12].
  assert.deepEqual(inferOp("Reshape", [{ dtype: "float32", shape: [0, 3] }, i64("t", [0, 3])], { allowzero: 1 }).shapes, ["[0,3]"]);
  const bad = inferOp("Reshape", [x, i64("t", [0, 12])], { allowzero: 1 });
  assert.equal(bad.shapes[0], undefined);
  assert.match(bad.warnings.join("\n"), /can not reshape 12\*batch elements/);
});

test("Reshape with a wrong element count is a warning, not a guess", () => {
  const r = inferOp("Reshape", [{ dtype: "float32", shape: [2, 3] }, i64("t", [4, 2])]);
  assert.equal(r.shapes[0], undefined);
  assert.match(r.warnings.join("\n"), /can not reshape 6 elements/);
});

test("Reshape whose target is unknown says why", () => {
  const r = inferOp("Reshape", [{ dtype: "float32", shape: [2, 3] }, { dtype: "int64", shape: [2] }]);
  assert.equal(r.shapes[0], undefined);
  assert.match(r.warnings.join("\n"), /target shape .* computed at run time/);
});

test("gpt2's view: Reshape target built from Shape(x)[0] * Shape(x)[1] resolves to batch*seq", () => {
  const r = run({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq", 768] } },
    initializers: [i64("i0", [0], []), i64("i1", [1], []), i64("ax", [0]), i64("c768", [768])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Gather", inputs: ["s", "i0"], outputs: ["b"] },
      { op: "Gather", inputs: ["s", "i1"], outputs: ["q"] },
      { op: "Mul", inputs: ["b", "q"], outputs: ["bq"] },
      { op: "Unsqueeze", inputs: ["bq", "ax"], outputs: ["bq1"] },
      { op: "Concat", inputs: ["bq1", "c768"], outputs: ["target"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["x", "target"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(r.shape("b"), "[]");
  assert.equal(r.value("b"), "[batch]");
  assert.equal(r.value("target"), "[batch*seq,768]");
  assert.equal(r.shape("y"), "[batch*seq,768]");
});

test("Slice of a Shape carries symbolic values", () => {
  const r = run({
    inputs: { x: { dtype: "float32", shape: ["batch", 12, "seq", 64] } },
    initializers: [i64("m2", [-2]), i64("big", [2 ** 53]), i64("z", [0]), i64("two", [2])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Slice", inputs: ["s", "m2", "big"], outputs: ["tail"] },
      { op: "Slice", inputs: ["s", "z", "two"], outputs: ["head"] },
    ],
    outputs: ["tail", "head"],
  });
  assert.equal(r.value("tail"), "[seq,64]");
  assert.equal(r.value("head"), "[batch,12]");
  assert.equal(r.shape("head"), "[2]");
});

test("Slice on symbolic dims: clamps that can be proved, and reported assumptions otherwise", () => {
  const x = { dtype: "float32" as const, shape: ["batch", "seq"] };
  const drop1 = inferOp("Slice", [x, i64("s", [1]), i64("e", [2 ** 31 - 1]), i64("a", [1])]);
  assert.deepEqual(drop1.shapes, ["[batch,seq - 1]"]);
  assert.equal(drop1.warnings.length, 0);
  const reversed = inferOp("Slice", [x, i64("s", [-1]), i64("e", [-(2 ** 53)]), i64("a", [1]), i64("st", [-1])]);
  assert.deepEqual(reversed.shapes, ["[batch,seq]"]);
  // x[:, -k:] with a symbolic k counts from the end.
  const tail = run({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq"] }, k: { dtype: "float32", shape: ["k"] } },
    initializers: [i64("zero", [0]), i64("big", [2 ** 53]), i64("a", [1])],
    nodes: [
      { op: "Shape", inputs: ["k"], outputs: ["ks"] },
      { op: "Sub", inputs: ["zero", "ks"], outputs: ["mk"] },
      { op: "Slice", inputs: ["x", "mk", "big", "a"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(tail.value("mk"), "[-k]");
  assert.equal(tail.shape("y"), "[batch,k]");
  // x[:, ::2] has (seq + 1)//2 columns, in the spelling torch's exporter writes.
  const every2 = inferOp("Slice", [x, i64("s", [0]), i64("e", [2 ** 53]), i64("a", [1]), i64("st", [2])]);
  assert.ok(equal(every2.out[0]!.shape![1]!, parseDim("(seq + 1)//2")));
  const last = inferOp("Slice", [x, i64("s", [-1]), i64("e", [2 ** 53]), i64("a", [-1])]);
  assert.deepEqual(last.shapes, ["[batch,1]"]);
  // seq rows of a 512-row table: seq, assuming seq <= 512, as exporters write it.
  const r = run({
    inputs: { ids: { dtype: "int64", shape: ["batch", "seq"] }, table: { dtype: "float32", shape: [1, 512] } },
    initializers: [i64("z", [0]), i64("one", [1]), i64("two", [2])],
    nodes: [
      { op: "Shape", inputs: ["ids"], outputs: ["s"], attrs: { start: 1, end: 2 } },
      { op: "Slice", inputs: ["table", "z", "s", "one"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(r.shape("y"), "[1,seq]");
  assert.match(r.warnings, /assumed seq <= 512/);
});

test("Slice on static dims clamps, steps and reverses like numpy", () => {
  const x = { dtype: "float32" as const, shape: [20, 10, 5] };
  assert.deepEqual(inferOp("Slice", [x, i64("s", [0, 0]), i64("e", [3, 10]), i64("a", [0, 1]), i64("st", [1, 3])]).shapes, ["[3,4,5]"]);
  assert.deepEqual(inferOp("Slice", [x, i64("s", [20, 10, 4]), i64("e", [0, 0, 1]), null, i64("st", [-1, -3, -2])]).shapes, ["[19,3,2]"]);
  assert.deepEqual(inferOp("Slice", [x, i64("s", [1000]), i64("e", [1000]), i64("a", [1])]).shapes, ["[20,0,5]"]);
  // Opset 9 takes starts/ends/axes as attributes.
  assert.deepEqual(inferOp("Slice", [x], { starts: [0, 1], ends: [3, -1], axes: [0, 2] }, { opset: 9 }).shapes, ["[3,10,3]"]);
});

test("Slice folds values of small static tensors, with steps", () => {
  const v = i64("v", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(str(inferOp("Slice", [v, i64("s", [8]), i64("e", [1]), i64("a", [0]), i64("st", [-3])]).out[0]?.value), "[8,5,2]");
});

test("Split: sizes from an input, equal parts, and opset 18's uneven last chunk", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 7] };
  assert.deepEqual(inferOp("Split", [x, i64("sp", [2, 5])], { axis: 1 }, { outputs: 2 }).shapes, ["[batch,2]", "[batch,5]"]);
  assert.deepEqual(inferOp("Split", [x], { axis: 1, num_outputs: 3 }, { outputs: 3, opset: 18 }).shapes, ["[batch,3]", "[batch,3]", "[batch,1]"]);
  const y = { dtype: "float32" as const, shape: ["batch", "seq", 2304] };
  assert.deepEqual(inferOp("Split", [y], { axis: 2 }, { outputs: 3, opset: 13 }).shapes, ["[batch,seq,768]", "[batch,seq,768]", "[batch,seq,768]"]);
  assert.deepEqual(inferOp("Split", [x], { axis: 1, split: [3, 4] }, { outputs: 2, opset: 11 }).shapes, ["[batch,3]", "[batch,4]"]);
  const odd = inferOp("Split", [x], { axis: 1 }, { outputs: 2, opset: 13 });
  assert.equal(odd.shapes[0], undefined);
  assert.match(odd.warnings.join("\n"), /does not split evenly/);
});

test("Squeeze and Unsqueeze take axes from an attribute before opset 13 and an input after", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 1, 5, 1] };
  assert.deepEqual(inferOp("Squeeze", [x], { axes: [1] }, { opset: 11 }).shapes, ["[batch,5,1]"]);
  assert.deepEqual(inferOp("Squeeze", [x, i64("a", [-1, 1])], {}, { opset: 13 }).shapes, ["[batch,5]"]);
  const all = inferOp("Squeeze", [x], {}, { opset: 13 });
  assert.deepEqual(all.shapes, ["[batch,5]"]);
  assert.match(all.warnings.join("\n"), /batch.*assumed not to be 1/);
  assert.deepEqual(inferOp("Squeeze", [{ dtype: "float32", shape: [1, 5, 1] }, i64("none", [])]).shapes, ["[5]"]);
  assert.deepEqual(inferOp("Unsqueeze", [{ dtype: "int64", shape: ["seq"] }, i64("a", [0, -1])]).shapes, ["[1,seq,1]"]);
  assert.deepEqual(inferOp("Unsqueeze", [{ dtype: "int64", shape: ["seq"] }], { axes: [1] }, { opset: 11 }).shapes, ["[seq,1]"]);
});

test("Transpose permutes shapes and values; default perm reverses", () => {
  assert.deepEqual(inferOp("Transpose", [{ dtype: "float32", shape: ["batch", "seq", 12, 64] }], { perm: [0, 2, 1, 3] }).shapes, ["[batch,12,seq,64]"]);
  assert.deepEqual(inferOp("Transpose", [{ dtype: "float32", shape: [2, 3, 4] }]).shapes, ["[4,3,2]"]);
  const t = inferOp("Transpose", [i64("m", [1, 2, 3, 4, 5, 6], [2, 3])]);
  assert.equal(str(t.out[0]?.value), "[1,4,2,5,3,6]");
});

test("Concat adds the axis dims symbolically and concatenates values along any axis", () => {
  const r = inferOp("Concat", [{ dtype: "int64", shape: ["batch", 1] }, { dtype: "int64", shape: ["batch", "seq"] }], { axis: -1 });
  assert.deepEqual(r.shapes, ["[batch,seq + 1]"]);
  const v = inferOp("Concat", [i64("a", [1, 2, 3, 4], [2, 2]), i64("b", [9, 8], [2, 1])], { axis: 1 });
  assert.deepEqual(v.shapes, ["[2,3]"]);
  assert.equal(str(v.out[0]?.value), "[1,2,9,3,4,8]");
});

test("Expand broadcasts to a symbolic target built from Shape", () => {
  const r = run({
    inputs: { ids: { dtype: "int64", shape: ["batch", "seq"] }, pos: { dtype: "int64", shape: [1, "seq"] } },
    initializers: [i64("one", [1])],
    nodes: [
      { op: "Shape", inputs: ["ids"], outputs: ["b"], attrs: { start: 0, end: 1 } },
      { op: "Concat", inputs: ["b", "one"], outputs: ["t"], attrs: { axis: 0 } },
      { op: "Expand", inputs: ["pos", "t"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(r.value("t"), "[batch,1]");
  assert.equal(r.shape("y"), "[batch,seq]");
  const v = inferOp("Expand", [i64("x", [5, 6], [2, 1]), i64("t", [2, 3])]);
  assert.equal(str(v.out[0]?.value), "[5,5,5,6,6,6]");
});

test("Flatten, Tile, DepthToSpace and SpaceToDepth", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 3, 4, 5] };
  assert.deepEqual(inferOp("Flatten", [x]).shapes, ["[batch,60]"]);
  assert.deepEqual(inferOp("Flatten", [x], { axis: 0 }).shapes, ["[1,60*batch]"]);
  assert.deepEqual(inferOp("Flatten", [x], { axis: -2 }).shapes, ["[3*batch,20]"]);
  assert.deepEqual(inferOp("Tile", [x, i64("r", [2, 1, 1, 3])]).shapes, ["[2*batch,3,4,15]"]);
  assert.equal(str(inferOp("Tile", [i64("v", [1, 2]), i64("r", [2])]).out[0]?.value), "[1,2,1,2]");
  assert.deepEqual(inferOp("DepthToSpace", [{ dtype: "float32", shape: [1, 8, 2, 3] }], { blocksize: 2 }).shapes, ["[1,2,4,6]"]);
  assert.deepEqual(inferOp("SpaceToDepth", [{ dtype: "float32", shape: [1, 2, 4, 6] }], { blocksize: 2 }).shapes, ["[1,8,2,3]"]);
});

test("Shape start/end (opset 15) and Size carry values", () => {
  const x = { dtype: "float32" as const, shape: ["batch", "seq", 768] };
  assert.equal(str(inferOp("Shape", [x], { start: -2 }).out[0]?.value), "[seq,768]");
  assert.equal(str(inferOp("Shape", [x], { start: -2 }, { opset: 13 }).out[0]?.value), "[batch,seq,768]");
  const size = inferOp("Size", [x]).out[0];
  assert.equal(str(size?.value), "[768*batch*seq]");
  assert.deepEqual(size?.shape, []);
});

test("Cast keeps symbolic values through int and float casts; Identity and CastLike pass them on", () => {
  const r = run({
    inputs: { x: { dtype: "float32", shape: ["batch", 3] }, like: { dtype: "int32", shape: [1] } },
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Cast", inputs: ["s"], outputs: ["f"], attrs: { to: 1 } },
      { op: "Identity", inputs: ["f"], outputs: ["g"] },
      { op: "CastLike", inputs: ["g", "like"], outputs: ["h"] },
      { op: "Cast", inputs: ["s"], outputs: ["b"], attrs: { to: 9 } },
    ],
    outputs: ["h", "b"],
  });
  assert.equal(r.dtype("f"), "float32");
  assert.equal(r.value("g"), "[batch,3]");
  assert.equal(r.dtype("h"), "int32");
  assert.equal(r.value("h"), "[batch,3]");
  assert.equal(r.value("b"), "[1,1]");
  const trunc = run({
    inputs: {},
    nodes: [
      { op: "Constant", inputs: [], outputs: ["c"], attrs: { value_floats: { fs: [2.7, -1.5] } } },
      { op: "Cast", inputs: ["c"], outputs: ["i"], attrs: { to: 7 } },
    ],
    outputs: ["i"],
  });
  assert.equal(trunc.value("i"), "[2,-1]");
  // A float weight is never decoded just to be cast.
  assert.equal(inferOp("Cast", [constTensor("w", "float32", [2], [2.7, -1.5])], { to: 7 }).out[0]?.value, undefined);
});

test("TorchScript's expand pattern: Where(Equal(target, -1), 1, target) resolves with a symbolic batch", () => {
  // class_token.expand(batch, -1, -1) as torch.onnx (opset 17) writes it, from vit_b_16.
  const r = run({
    inputs: { x: { dtype: "float32", shape: ["batch", 196, 768] }, token: { dtype: "float32", shape: [1, 1, 768] } },
    initializers: [i64("i0", [0], []), i64("ax", [0]), i64("m1", [-1]), i64("m1s", [-1], []), i64("three", [3])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Gather", inputs: ["s", "i0"], outputs: ["b"] },
      { op: "Unsqueeze", inputs: ["b", "ax"], outputs: ["b1"] },
      { op: "Concat", inputs: ["b1", "m1", "m1"], outputs: ["target"], attrs: { axis: 0 } },
      { op: "ConstantOfShape", inputs: ["three"], outputs: ["ones"], attrs: { value: { type: "tensor", value: i64("one", [1]) } } },
      { op: "Mul", inputs: ["ones", "m1s"], outputs: ["minus"] },
      { op: "Equal", inputs: ["target", "minus"], outputs: ["eq"] },
      { op: "Where", inputs: ["eq", "ones", "target"], outputs: ["w"] },
      { op: "Expand", inputs: ["token", "w"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(r.value("eq"), "[0,1,1]");
  assert.equal(r.value("w"), "[batch,1,1]");
  assert.equal(r.shape("y"), "[batch,1,768]");
});

test("FLOPs: viewing, moving and casting data count 0, not unknown", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["batch", 3, 4] } },
    initializers: [i64("t", [0, -1])],
    nodes: [
      { op: "Reshape", inputs: ["x", "t"], outputs: ["y"] },
      { op: "Transpose", inputs: ["x"], outputs: ["z"] },
      { op: "Cast", inputs: ["x"], outputs: ["h"], attrs: { to: 10 } },
    ],
    outputs: ["y", "z", "h"],
  });
  assert.deepEqual(r.nodes.map((n) => n.flops), [0, 0, 0]);
});

test("DynamicSlice (experimental, opsets 1-9) reads starts and ends from inputs", () => {
  const x = { dtype: "float32" as const, shape: [20, 10] };
  assert.deepEqual(inferOp("DynamicSlice", [x, i64("s", [2]), i64("e", [-1]), i64("a", [1])], {}, { opset: 9 }).shapes, ["[20,7]"]);
});

test("Slice with run-time starts: a fresh symbol per sliced axis, bounded by ceil(dim / |step|)", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["batch", 10] }, start: { dtype: "int64", shape: [1] }, end: { dtype: "int64", shape: [1] } },
    initializers: [i64("a", [1]), i64("st", [-3])],
    nodes: [{ op: "Slice", inputs: ["x", "start", "end", "a", "st"], outputs: ["y"] }],
    outputs: ["y"],
  });
  assert.equal(str(r.values.get("y")?.shape), "[batch,slice_1]");
  assert.equal(r.bounds.get("slice_1"), 4);
  assert.match(r.warnings.join("\n"), /computed at run time: axis 1 has slice_1 <= 4/);
});
