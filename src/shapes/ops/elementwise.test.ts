import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, inferOp } from "../testing.js";

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
