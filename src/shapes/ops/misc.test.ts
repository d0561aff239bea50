import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString } from "../../sym/expr.js";
import { constTensor, infer, inferOp } from "../testing.js";

const i64 = (name: string, values: number[], shape = [values.length]) => constTensor(name, "int64", shape, values);

test("DFT opset 17: axis attribute, one-sided bins, dft_length", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 100, 1] };
  assert.deepEqual(inferOp("DFT", [x], {}, { opset: 17 }).shapes, ["[batch,100,2]"]);
  assert.deepEqual(inferOp("DFT", [x], { onesided: 1 }, { opset: 17 }).shapes, ["[batch,51,2]"]);
  assert.deepEqual(inferOp("DFT", [x, i64("n", [64], [])], { onesided: 1 }, { opset: 17 }).shapes, ["[batch,33,2]"]);
});

test("DFT opset 20: axis input, default -2", () => {
  const x = { dtype: "float32" as const, shape: [2, 10, 12, 2] };
  assert.deepEqual(inferOp("DFT", [x], { onesided: 1 }, { opset: 20 }).shapes, ["[2,10,7,2]"]);
  assert.deepEqual(inferOp("DFT", [x, null, i64("a", [1], [])], { onesided: 1 }, { opset: 20 }).shapes, ["[2,6,12,2]"]);
  const bad = inferOp("DFT", [x, null, i64("a", [-1], [])], {}, { opset: 20 });
  assert.match(bad.warnings.join("\n"), /not a signal axis/);
});

test("STFT: frames from the signal length, frame step and window", () => {
  const signal = { dtype: "float32" as const, shape: [1, 128, 1] };
  const window = { dtype: "float32" as const, shape: [16] };
  assert.deepEqual(inferOp("STFT", [signal, i64("step", [8], []), window]).shapes, ["[1,15,9,2]"]);
  assert.deepEqual(inferOp("STFT", [signal, i64("step", [8], []), null, i64("len", [16], [])], { onesided: 0 }).shapes, ["[1,15,16,2]"]);
});

test("Det drops the two matrix dims", () => {
  assert.deepEqual(inferOp("Det", [{ dtype: "float32", shape: ["batch", 3, 3] }]).shapes, ["[batch]"]);
  assert.deepEqual(inferOp("Det", [{ dtype: "float32", shape: [3, 3] }]).shapes, ["[]"]);
});

test("FLOPs: 5·n·log2(n) per FFT, (4/3)·n³ per determinant; a symbolic FFT length is unknown", () => {
  const flops = (op: string, shape: (number | string)[], opset = 17) =>
    infer({ inputs: { x: { dtype: "float32", shape } }, nodes: [{ op, inputs: ["x"], outputs: ["y"] }], outputs: ["y"], opset }).nodes[0]?.flops;
  assert.equal(flops("DFT", [2, 8, 1]), 2 * 5 * 8 * 3);
  assert.equal(flops("DFT", [2, "seq", 1]), undefined);
  assert.equal(dimToString(flops("Det", ["batch", 3, 3])!), "36*batch");
});

test("ImageDecoder: fresh height and width (the size is in the bytes), channels from pixel_format", () => {
  const r = inferOp("ImageDecoder", [{ dtype: "uint8", shape: ["n"] }], { pixel_format: "Grayscale" });
  assert.deepEqual(r.shapes, ["[image_height_1,image_width_1,1]"]);
  assert.equal(r.out[0]?.dtype, "uint8");
  assert.match(r.warnings.join("\n"), /no upper bound/);
  assert.deepEqual(inferOp("ImageDecoder", [{ dtype: "uint8", shape: [100] }]).shapes, ["[image_height_1,image_width_1,3]"]);
});
