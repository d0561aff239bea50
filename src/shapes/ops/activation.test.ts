import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString } from "../../sym/expr.js";
import { infer, inferOp } from "../testing.js";

const POINTWISE = [
  "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
  "Softsign", "Gelu", "Mish", "ThresholdedRelu", "Shrink", "Softmax", "LogSoftmax", "Hardmax",
  "ImageScaler", "ScaledTanh", "ParametricSoftplus", "Affine",
];

for (const op of POINTWISE) {
  test(`${op} keeps a symbolic shape and the dtype`, () => {
    const r = inferOp(op, [{ dtype: "float16", shape: ["batch", "seq", 768] }]);
    assert.deepEqual(r.shapes, ["[batch,seq,768]"], r.warnings.join("; "));
    assert.equal(r.out[0]?.dtype, "float16");
  });
}

test("Softmax: opset 11 coerces to 2-D to compute, but the output keeps the input's shape", () => {
  const r = inferOp("Softmax", [{ dtype: "float32", shape: [2, 3, 4] }], { axis: 1 }, { opset: 11 });
  assert.deepEqual(r.shapes, ["[2,3,4]"]);
});

test("Softmax: an axis outside the rank is an error", () => {
  const r = inferOp("LogSoftmax", [{ dtype: "float32", shape: [2, 3] }], { axis: 2 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /axis 2 out of range for rank 2/);
});

test("PRelu: per-channel slope before opset 7, numpy-broadcast slope after", () => {
  // Opset 6: slope [C] applies per channel, which would not broadcast numpy-style against [N,C,H,W].
  const old = inferOp("PRelu", [{ dtype: "float32", shape: [2, 3, 4, 5] }, { dtype: "float32", shape: [3] }], {}, { opset: 6 });
  assert.deepEqual(old.shapes, ["[2,3,4,5]"]);
  const now = inferOp("PRelu", [{ dtype: "float32", shape: ["N", 3, 4, 5] }, { dtype: "float32", shape: [3, 1, 1] }], {}, { opset: 16 });
  assert.deepEqual(now.shapes, ["[N,3,4,5]"]);
  const bad = inferOp("PRelu", [{ dtype: "float32", shape: [2, 3, 4, 5] }, { dtype: "float32", shape: [3] }], {}, { opset: 16 });
  assert.equal(bad.out[0]?.shape, undefined);
});

test("PRelu: a slope that would grow X is rejected (broadcast is one-way)", () => {
  const r = inferOp("PRelu", [{ dtype: "float32", shape: [4] }, { dtype: "float32", shape: [2, 4] }], {}, { opset: 16 });
  assert.equal(r.out[0]?.shape, undefined);
  const same = inferOp("PRelu", [{ dtype: "float32", shape: [1, 4] }, { dtype: "float32", shape: [2, 4] }], {}, { opset: 16 });
  assert.equal(same.out[0]?.shape, undefined);
  assert.match(same.warnings.join("\n"), /does not broadcast to X/);
});

test("activation FLOPs: one per element (elementwise convention); softmax five passes per element", () => {
  const flops = (op: string) =>
    dimToString(
      infer({ inputs: { x: { dtype: "float32", shape: ["N", 10] } }, nodes: [{ op, inputs: ["x"], outputs: ["y"] }], outputs: ["y"] }).nodes[0]!.flops!,
    );
  assert.equal(flops("Gelu"), "10*N");
  assert.equal(flops("Relu"), "10*N");
  assert.equal(flops("Softmax"), "50*N");
});
