import { test } from "node:test";
import assert from "node:assert/strict";
import { convPoolShape, provablyEqual, selfShape } from "./nchwc-shape.js";
import type { OrtNode } from "./graph.js";

const conv = (pads: number[], strides: number[]): OrtNode => ({ name: "c", op: "Conv", inputs: [], outputs: ["y"], attrs: { pads: { type: "ints", value: pads }, strides: { type: "ints", value: strides } } });

test("a 3x3 pad-1 Conv keeps its input's spatial origin (a stride of 2 counts one halving); a 3x3 unpadded one does not", () => {
  const x = selfShape("x");
  const same = convPoolShape(conv([1, 1, 1, 1], [1, 1]), x, "y", [3, 3]);
  assert.deepEqual(same.dims, ["x", "y", "x", "x"]);
  const half = convPoolShape(conv([1, 1, 1, 1], [2, 2]), x, "z", [3, 3]);
  assert.deepEqual(half.shifts, [1, 1]);
  assert.ok(!provablyEqual(same, half, undefined, undefined));
  const valid = convPoolShape(conv([0, 0, 0, 0], [1, 1]), x, "v", [3, 3]);
  assert.deepEqual(valid.dims, ["x", "v", "v", "v"]);
});

test("shapes of different origin are equal when shape inference knows the dims alike (values or one dim_param)", () => {
  const a = selfShape("a");
  const b = selfShape("b");
  assert.ok(!provablyEqual(a, b, ["N", 16, null, null], ["N", 16, null, null]));
  assert.ok(provablyEqual(a, b, ["N", 16, 8, 8], ["N", 16, 8, 8]));
  assert.ok(!provablyEqual(a, b, ["N", 16, 8, 8], ["M", 16, 8, 8]));
});
