import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, infer, inferOp } from "../testing.js";

test("binary ops broadcast numpy-style, symbolically", () => {
  const r = inferOp("Add", [{ dtype: "float32", shape: ["batch", 3, 1] }, { dtype: "float32", shape: [4] }]);
  assert.deepEqual(r.shapes, ["[batch,3,4]"]);
  assert.equal(r.out[0]?.dtype, "float32");
});

test("comparison ops produce bool", () => {
  const r = inferOp("Less", [{ dtype: "int64", shape: [2, 3] }, { dtype: "int64", shape: [1] }]);
  assert.equal(r.out[0]?.dtype, "bool");
});

test("incompatible static dims are a warning and an unknown output, not a guess", () => {
  const r = inferOp("Mul", [{ dtype: "float32", shape: [2, 3] }, { dtype: "float32", shape: [4] }]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /broadcast/);
});

test("values fold through integer arithmetic", () => {
  const a = constTensor("a", "int64", [2], [6, 7]);
  const b = constTensor("b", "int64", [1], [2]);
  assert.deepEqual(inferOp("Div", [a, b]).out[0]?.value, [3, 3]);
  assert.deepEqual(inferOp("Mul", [a, b]).out[0]?.value, [12, 14]);
});

test("unary math ops keep shape and dtype; Not, IsNaN and IsInf give bool", () => {
  for (const op of ["Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sqrt", "Exp", "Log", "Sin", "Erf", "Sign", "Acosh"]) {
    const r = inferOp(op, [{ dtype: "float32", shape: ["N", 3] }]);
    assert.deepEqual(r.shapes, ["[N,3]"], op);
    assert.equal(r.out[0]?.dtype, "float32", op);
  }
  for (const op of ["Not", "IsNaN", "IsInf"]) {
    assert.equal(inferOp(op, [{ dtype: op === "Not" ? "bool" : "float32", shape: [2] }]).out[0]?.dtype, "bool", op);
  }
  assert.equal(inferOp("BitwiseNot", [{ dtype: "uint8", shape: [2] }]).out[0]?.dtype, "uint8");
});

test("variadic Sum/Max/Min/Mean broadcast all inputs", () => {
  const ins = [
    { dtype: "float32" as const, shape: [3, 1] },
    { dtype: "float32" as const, shape: [1, 4] },
    { dtype: "float32" as const, shape: ["N", 1, 1] },
  ];
  for (const op of ["Sum", "Max", "Min", "Mean"]) assert.deepEqual(inferOp(op, ins).shapes, ["[N,3,4]"], op);
});

test("Where takes its dtype from X and broadcasts the condition", () => {
  const r = inferOp("Where", [
    { dtype: "bool", shape: [1, "S"] },
    { dtype: "float16", shape: ["B", 1] },
    { dtype: "float16", shape: [] },
  ]);
  assert.deepEqual(r.shapes, ["[B,S]"]);
  assert.equal(r.out[0]?.dtype, "float16");
  const c = constTensor("c", "bool", [3], [1, 0, 1]);
  const x = constTensor("x", "int64", [3], [1, 2, 3]);
  const y = constTensor("y", "int64", [1], [9]);
  assert.deepEqual(inferOp("Where", [c, x, y]).out[0]?.value, [1, 9, 3]);
});

test("Clip folds known values with bounds from attributes (opset 6) or inputs (opset 11+)", () => {
  const v = constTensor("v", "int64", [4], [-5, 0, 5, 50]);
  assert.deepEqual(inferOp("Clip", [v], { min: { f: 0 }, max: { f: 10 } }, { opset: 6 }).out[0]?.value, [0, 0, 5, 10]);
  const lo = constTensor("lo", "int64", [], [1]);
  assert.deepEqual(inferOp("Clip", [v, lo]).out[0]?.value, [1, 1, 5, 50]);
  // A bound that is not known: same shape, no folded values.
  const r = inferOp("Clip", [v, { dtype: "int64", shape: [] }]);
  assert.deepEqual(r.shapes, ["[4]"]);
  assert.equal(r.out[0]?.value, undefined);
});

test("Mod follows the divisor's sign unless fmod=1; BitShift by direction; Round half to even", () => {
  const a = constTensor("a", "int64", [2], [-7, 7]);
  const b = constTensor("b", "int64", [1], [3]);
  assert.deepEqual(inferOp("Mod", [a, b]).out[0]?.value, [2, 1]);
  assert.deepEqual(inferOp("Mod", [a, b], { fmod: 1 }).out[0]?.value, [-1, 1]);
  const u = constTensor("u", "uint64", [2], [16, 3]);
  const s = constTensor("s", "uint64", [1], [2]);
  assert.deepEqual(inferOp("BitShift", [u, s], { direction: "LEFT" }).out[0]?.value, [64, 12]);
  assert.deepEqual(inferOp("BitShift", [u, s], { direction: "RIGHT" }).out[0]?.value, [4, 0]);
  const f = constTensor("f", "float32", [4], [0.5, 1.5, 2.5, -0.5]);
  assert.deepEqual(inferOp("Round", [f]).out[0]?.value, [0, 2, 2, -0]);
});

test("comparison and logical ops fold to 0/1 and produce bool", () => {
  const a = constTensor("a", "int64", [3], [1, 2, 3]);
  const b = constTensor("b", "int64", [1], [2]);
  const r = inferOp("GreaterOrEqual", [a, b]);
  assert.equal(r.out[0]?.dtype, "bool");
  assert.deepEqual(r.out[0]?.value, [0, 1, 1]);
  assert.deepEqual(inferOp("Equal", [a, b]).out[0]?.value, [0, 1, 0]);
});

test("opset < 7: broadcast=1 maps B onto A at `axis`; the output is A's shape", () => {
  const a = { dtype: "float32" as const, shape: ["N", 3, 4, 5] };
  const r = inferOp("Add", [a, { dtype: "float32", shape: [3, 4] }], { broadcast: 1, axis: 1 }, { opset: 6 });
  assert.deepEqual(r.shapes, ["[N,3,4,5]"]);
  // Numpy-style the same pair would not broadcast: from opset 7 it is an error.
  assert.equal(inferOp("Add", [a, { dtype: "float32", shape: [3, 4] }], {}, { opset: 7 }).out[0]?.shape, undefined);
  const bad = inferOp("Mul", [a, { dtype: "float32", shape: [4, 4] }], { broadcast: 1, axis: 1 }, { opset: 6 });
  assert.match(bad.warnings.join("\n"), /B dim 0 is 4, A's dim 1 is 3/);
});

test("symbolic values stay integer polynomials: a fractional factor drops the value instead of corrupting it", () => {
  const run = (factor: number) =>
    infer({
      inputs: { x: { dtype: "float32", shape: ["N", 4] } },
      initializers: [constTensor("k", "float32", [], [factor])],
      nodes: [
        { op: "Shape", inputs: ["x"], outputs: ["s"] },
        { op: "Cast", inputs: ["s"], outputs: ["f"], attrs: { to: 1 } },
        { op: "Mul", inputs: ["f", "k"], outputs: ["y"] },
      ],
      outputs: ["y"],
    }).values.get("y")?.value?.map(String);
  assert.deepEqual(run(2), ["2*N", "8"]);
  assert.equal(run(0.5), undefined);
});

test("Floor/Ceil/Round keep a symbolic (integer) value: an exported upsample's sizes stay symbolic", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: [1, 3, "H", "W"] } },
    initializers: [constTensor("two", "float32", [], [2])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Cast", inputs: ["s"], outputs: ["f"], attrs: { to: 1 } },
      { op: "Mul", inputs: ["f", "two"], outputs: ["m"] },
      { op: "Floor", inputs: ["m"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.deepEqual(r.values.get("y")?.value?.map(String), ["2", "6", "2*H", "2*W"]);
});
