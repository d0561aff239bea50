import { test } from "node:test";
import assert from "node:assert/strict";
import { inferOp } from "../testing.js";

const D = { domain: "ai.onnx.preview.training" };
const f = (shape: number[]) => ({ dtype: "float32" as const, shape });
const step = [f([]), { dtype: "int64" as const, shape: [] }];

test("Adam over two tensors: X_new, V_new, H_new per tensor, gradients not returned", () => {
  const r = inferOp("Adam", [...step, f([1]), f([2, 3]), f([1]), f([2, 3]), f([1]), f([2, 3]), f([1]), f([2, 3])], {}, { ...D, outputs: 6 });
  assert.deepEqual(r.shapes, ["[1]", "[2,3]", "[1]", "[2,3]", "[1]", "[2,3]"]);
});

test("Adagrad and Momentum: X_new then the state", () => {
  assert.deepEqual(inferOp("Adagrad", [...step, f([4]), f([4]), f([4])], {}, { ...D, outputs: 2 }).shapes, ["[4]", "[4]"]);
  assert.deepEqual(inferOp("Momentum", [...step, f([2]), f([5]), f([2]), f([5]), f([2]), f([5])], {}, { ...D, outputs: 4 }).shapes, ["[2]", "[5]", "[2]", "[5]"]);
});

test("an input count that is not 2 + groups*n is an error", () => {
  const r = inferOp("Adam", [...step, f([1]), f([1]), f([1])], {}, { ...D, outputs: 3 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /expected 2 \+ 4\*n/);
});

test("Gradient: one gradient per xs input, shaped like it", () => {
  const r = inferOp("Gradient", [f([3, 2]), f([7])], { xs: ["a", "b"], y: "loss" }, { ...D, outputs: 2 });
  assert.deepEqual(r.shapes, ["[3,2]", "[7]"]);
});
