import { test } from "node:test";
import assert from "node:assert/strict";
import { knownOutputDims, plannable, type KnownDim } from "./known-shapes.js";
import type { OrtNode } from "./graph.js";

const node = (op: string, inputs: string[], attrs: OrtNode["attrs"] = {}): OrtNode => ({ name: op, op, inputs, outputs: ["y"], attrs });

test("a Conv keeps a named batch dim but cannot tell a named spatial dim: ORT plans no reuse for it", () => {
  const shapes: Record<string, KnownDim[]> = { x: ["N", 3, 224, 224], w: [8, 3, 3, 3], xs: ["N", 3, "H", "W"] };
  const conv = knownOutputDims(node("Conv", ["x", "w"]), (i) => shapes[["x", "w"][i]!], [4, 8, 222, 222], [4, 3, 224, 224]);
  assert.deepEqual(conv, ["N", 8, 222, 222]);
  assert.ok(plannable(conv));
  const dyn = knownOutputDims(node("Conv", ["xs", "w"]), (i) => shapes[["xs", "w"][i]!], [4, 8, 222, 222], [4, 3, 224, 224]);
  assert.deepEqual(dyn, ["N", 8, null, null]);
  assert.ok(!plannable(dyn));
});

test("broadcasting carries names and values, Flatten multiplies 1 x name, everything else with a name is unknown", () => {
  const s: Record<string, KnownDim[]> = { a: ["N", 8, null, null], b: [1, 8, 1, 1], f: ["N", 512, 1, 1], g: ["N", 2, 3] };
  assert.deepEqual(knownOutputDims(node("Add", ["a", "b"]), (i) => s[["a", "b"][i]!], [4, 8, 5, 5], [4, 8, 5, 5]), ["N", 8, null, null]);
  assert.deepEqual(knownOutputDims(node("Flatten", ["f"], { axis: { type: "int", value: 1 } }), () => s["f"], [4, 512], [4, 512, 1, 1]), ["N", 512]);
  assert.deepEqual(knownOutputDims(node("Flatten", ["g"], { axis: { type: "int", value: 2 } }), () => s["g"], [8, 3], [4, 2, 3]), [null, 3]);
});
