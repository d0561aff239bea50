import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString, equal, type Dim } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { constTensor, infer, inferOp } from "../testing.js";

const i64 = (name: string, values: number[], shape = [values.length]) => constTensor(name, "int64", shape, values);
const str = (v: readonly Dim[] | undefined) => (v ? `[${v.map(dimToString).join(",")}]` : undefined);

test("Constant: tensor, float(s), int(s) and string forms", () => {
  const r = infer({
    inputs: {},
    nodes: [
      { op: "Constant", inputs: [], outputs: ["t"], attrs: { value: { type: "tensor", value: i64("v", [1, 2, 3, 4], [2, 2]) } } },
      { op: "Constant", inputs: [], outputs: ["f"], attrs: { value_float: { f: 0.5 } } },
      { op: "Constant", inputs: [], outputs: ["fs"], attrs: { value_floats: { fs: [1, 2, 3] } } },
      { op: "Constant", inputs: [], outputs: ["i"], attrs: { value_int: 7 } },
      { op: "Constant", inputs: [], outputs: ["is"], attrs: { value_ints: [4, 5] } },
      { op: "Constant", inputs: [], outputs: ["ss"], attrs: { value_strings: ["a", "b", "c"] } },
    ],
    outputs: ["t", "f", "fs", "i", "is", "ss"],
  });
  const v = (n: string) => r.values.get(n);
  assert.deepEqual(v("t")?.shape, [2, 2]);
  assert.equal(str(v("t")?.value), "[1,2,3,4]");
  assert.deepEqual([v("f")?.dtype, v("f")?.shape, v("f")?.value], ["float32", [], [0.5]]);
  assert.deepEqual(v("fs")?.shape, [3]);
  assert.deepEqual([v("i")?.dtype, v("i")?.shape, v("i")?.value], ["int64", [], [7]]);
  assert.deepEqual(v("is")?.value, [4, 5]);
  assert.deepEqual([v("ss")?.dtype, v("ss")?.shape], ["string", [3]]);
});

test("ConstantOfShape: symbolic shapes, and values for small static ones", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq"] } },
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "ConstantOfShape", inputs: ["s"], outputs: ["ones"], attrs: { value: { type: "tensor", value: constTensor("one", "bool", [1], [1]) } } },
    ],
    outputs: ["ones"],
  });
  assert.equal(str(r.values.get("ones")?.shape), "[batch,seq]");
  assert.equal(r.values.get("ones")?.dtype, "bool");
  const c = inferOp("ConstantOfShape", [i64("s", [2, 2])], { value: { type: "tensor", value: i64("v", [3]) } });
  assert.equal(str(c.out[0]?.value), "[3,3,3,3]");
  assert.equal(inferOp("ConstantOfShape", [i64("s", [3])]).out[0]?.dtype, "float32");
});

test("Range with a symbolic limit: ceil((limit - start) / delta)", () => {
  const r = infer({
    inputs: { ids: { dtype: "int64", shape: ["batch", "seq"] } },
    initializers: [i64("zero", [0], []), i64("one", [1], []), i64("two", [2], []), i64("three", [3], []), i64("i1", [1], [])],
    nodes: [
      { op: "Shape", inputs: ["ids"], outputs: ["s"] },
      { op: "Gather", inputs: ["s", "i1"], outputs: ["seq"] },
      { op: "Range", inputs: ["zero", "seq", "one"], outputs: ["pos"] },
      { op: "Range", inputs: ["two", "seq", "three"], outputs: ["strided"] },
    ],
    outputs: ["pos", "strided"],
  });
  assert.equal(str(r.values.get("pos")?.shape), "[seq]");
  // ceil((seq - 2) / 3), spelled as torch writes it: (seq - 2 + 2) // 3.
  assert.ok(equal(r.values.get("strided")!.shape![0]!, parseDim("seq//3")));
  assert.equal(r.warnings.length, 0);
});

test("Range over a symbolic span in fractional steps: exact for steps of 1/k, else unknown with the reason", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["seq"] } },
    initializers: [constTensor("zero", "float32", [], [0]), constTensor("half", "float32", [], [0.5]), constTensor("third", "float32", [], [0.3]), i64("i0", [0], [])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Gather", inputs: ["s", "i0"], outputs: ["n"] },
      { op: "Cast", inputs: ["n"], outputs: ["f"], attrs: { to: 1 } },
      { op: "Range", inputs: ["zero", "f", "half"], outputs: ["h"] },
      { op: "Range", inputs: ["zero", "f", "third"], outputs: ["y"] },
    ],
    outputs: ["h", "y"],
  });
  assert.equal(r.values.get("f")?.value?.map(dimToString).join(), "seq");
  assert.equal(r.values.get("y")?.shape, undefined);
  assert.equal(str(r.values.get("h")?.shape), "[2*seq]");
  assert.match(r.warnings.join("\n"), /in steps of 0.3\d* is not an integer count/);
});

test("Range with known bounds has values; an empty range is 0 long", () => {
  const r = inferOp("Range", [i64("a", [10], []), i64("b", [4], []), i64("c", [-3], [])]);
  assert.deepEqual(r.shapes, ["[2]"]);
  assert.equal(str(r.out[0]?.value), "[10,7]");
  assert.deepEqual(inferOp("Range", [i64("a", [5], []), i64("b", [1], []), i64("c", [1], [])]).shapes, ["[0]"]);
  const f = inferOp("Range", [constTensor("a", "float32", [], [1]), constTensor("b", "float32", [], [2]), constTensor("c", "float32", [], [0.3])]);
  // Float scalars are read when needed for a shape: ceil((2 - 1) / 0.3) = 4.
  assert.deepEqual(f.shapes, ["[4]"]);
});

test("EyeLike, Bernoulli, random ops, Multinomial: shapes and dtypes from attributes or the input", () => {
  const x = { dtype: "float16" as const, shape: ["batch", 4] };
  assert.equal(inferOp("EyeLike", [x], { dtype: 7 }).out[0]?.dtype, "int64");
  assert.deepEqual(inferOp("Bernoulli", [x]).shapes, ["[batch,4]"]);
  assert.equal(inferOp("RandomUniformLike", [x]).out[0]?.dtype, "float16");
  const rn = inferOp("RandomNormal", [], { shape: [2, 3], dtype: 11 });
  assert.deepEqual([rn.shapes[0], rn.out[0]?.dtype], ["[2,3]", "float64"]);
  const m = inferOp("Multinomial", [x], { sample_size: 5 });
  assert.deepEqual([m.shapes[0], m.out[0]?.dtype], ["[batch,5]", "int32"]);
});

test("window functions and MelWeightMatrix", () => {
  assert.deepEqual(inferOp("HannWindow", [i64("n", [400], [])]).shapes, ["[400]"]);
  assert.equal(inferOp("BlackmanWindow", [i64("n", [8], [])], { output_datatype: 11 }).out[0]?.dtype, "float64");
  const mel = inferOp("MelWeightMatrix", [i64("bins", [80], []), i64("n", [400], []), i64("sr", [16000], []), constTensor("lo", "float32", [], [0]), constTensor("hi", "float32", [], [8000])]);
  assert.deepEqual(mel.shapes, ["[201,80]"]);
});

test("opset 1's experimental ConstantFill and GivenTensorFill", () => {
  assert.deepEqual(inferOp("ConstantFill", [], { shape: [2, 3], dtype: 7 }, { opset: 1 }).shapes, ["[2,3]"]);
  assert.equal(inferOp("ConstantFill", [], { shape: [2, 3], dtype: 7 }, { opset: 1 }).out[0]?.dtype, "int64");
  assert.deepEqual(inferOp("ConstantFill", [i64("s", [4, 5])], { input_as_shape: 1, extra_shape: [6] }, { opset: 1 }).shapes, ["[4,5,6]"]);
  assert.deepEqual(inferOp("GivenTensorFill", [{ dtype: "float32", shape: ["batch", 2] }], {}, { opset: 1 }).shapes, ["[batch,2]"]);
});
