import { test } from "node:test";
import assert from "node:assert/strict";
import { inferOp, type AttrSpec, type ShapeSpec } from "../testing.js";

const scores = (shape: ShapeSpec) => ({ dtype: "float32" as const, shape });
const labels = (shape: ShapeSpec) => ({ dtype: "int64" as const, shape });

const REDUCTIONS: [string | undefined, string][] = [
  [undefined, "[]"], // mean is the default
  ["mean", "[]"],
  ["sum", "[]"],
  ["none", "[N,6,5]"],
];

for (const [reduction, want] of REDUCTIONS) {
  test(`NegativeLogLikelihoodLoss reduction=${reduction ?? "(default)"} -> ${want}`, () => {
    const attrs: Record<string, AttrSpec> = reduction ? { reduction } : {};
    const r = inferOp("NegativeLogLikelihoodLoss", [scores(["N", 3, 6, 5]), labels(["N", 6, 5]), scores([3])], attrs);
    assert.deepEqual(r.shapes, [want], r.warnings.join("; "));
    assert.equal(r.out[0]?.dtype, "float32");
  });
}

test("SoftmaxCrossEntropyLoss: loss by reduction, log_prob with the scores' shape", () => {
  const none = inferOp("SoftmaxCrossEntropyLoss", [scores([3, 5, 2]), labels([3, 2])], { reduction: "none" }, { outputs: 2 });
  assert.deepEqual(none.shapes, ["[3,2]", "[3,5,2]"]);
  const mean = inferOp("SoftmaxCrossEntropyLoss", [scores(["N", 5]), labels(["N"])], {}, { outputs: 2 });
  assert.deepEqual(mean.shapes, ["[]", "[N,5]"]);
});

test("losses: a target that does not match the input's N and spatial dims is an error", () => {
  const r = inferOp("NegativeLogLikelihoodLoss", [scores([3, 5, 2]), labels([3, 4])], { reduction: "none" });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /target dim 1 is 4/);
  const bad = inferOp("SoftmaxCrossEntropyLoss", [scores([3, 5]), labels([3])], { reduction: "avg" });
  assert.match(bad.warnings.join("\n"), /unknown reduction 'avg'/);
});
