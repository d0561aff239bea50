import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, infer, inferOp, type ShapeSpec } from "../testing.js";

const f32 = (shape: ShapeSpec) => ({ dtype: "float32" as const, shape });
const scales = (v: number[]) => constTensor("scales", "float32", [v.length], v);
const sizes = (v: number[]) => constTensor("sizes", "int64", [v.length], v);
const emptyRoi = constTensor("roi", "float32", [0], []);

test("Resize opset 10: (X, scales)", () => {
  const r = inferOp("Resize", [f32([1, 3, 4, 6]), scales([1, 1, 2, 0.5])], { mode: "nearest" }, { opset: 10 });
  assert.deepEqual(r.shapes, ["[1,3,8,3]"]);
});

test("Resize opset 11/13: scales, or sizes when given", () => {
  const s = inferOp("Resize", [f32(["N", 3, 20, 20]), emptyRoi, scales([1, 1, 0.6, 1.5])], {}, { opset: 13 });
  assert.deepEqual(s.shapes, ["[N,3,12,30]"]);
  const z = inferOp("Resize", [f32(["N", 3, 20, 20]), emptyRoi, null, sizes([1, 3, 7, 9])], {}, { opset: 11 });
  assert.deepEqual(z.shapes, ["[1,3,7,9]"]);
  // An empty scales tensor means "not given" (exporters write one before sizes).
  const e = inferOp("Resize", [f32([1, 3, 20, 20]), emptyRoi, constTensor("s0", "float32", [0], []), sizes([1, 3, 5, 5])], {}, { opset: 13 });
  assert.deepEqual(e.shapes, ["[1,3,5,5]"]);
});

test("Resize: floor(in * scale) in float32, as onnxruntime computes it", () => {
  // 0.7 as float32 is 0.69999998...; 10 * that in double floors to 6, but the float32 product rounds to 7.
  const r = inferOp("Resize", [f32([1, 1, 10, 10]), emptyRoi, scales([1, 1, 0.7, 0.6])], {}, { opset: 13 });
  assert.deepEqual(r.shapes, ["[1,1,7,6]"]);
});

test("Resize: symbolic dims with fractional scales stay symbolic", () => {
  const r = inferOp("Resize", [f32(["N", 3, "H", "W"]), emptyRoi, scales([1, 1, 2, 0.5])], {}, { opset: 13 });
  assert.deepEqual(r.shapes, ["[N,3,2*H,floor(W/2)]"]);
  const odd = inferOp("Resize", [f32([1, 1, "H", 4]), emptyRoi, scales([1, 1, 0.3183, 1])], {}, { opset: 13 });
  assert.equal(odd.out[0]?.shape, undefined);
  assert.match(odd.warnings.join("\n"), /not a small fraction/);
});

test("Resize opset 18: axes and keep_aspect_ratio_policy", () => {
  const a = inferOp("Resize", [f32([1, 3, 20, 30]), emptyRoi, scales([2, 3])], { axes: [2, 3] }, { opset: 18 });
  assert.deepEqual(a.shapes, ["[1,3,40,90]"]);
  const x = f32([1, 3, 20, 30]);
  const notLarger = inferOp("Resize", [x, emptyRoi, null, sizes([10, 10])], { axes: [2, 3], keep_aspect_ratio_policy: "not_larger" }, { opset: 18 });
  assert.deepEqual(notLarger.shapes, ["[1,3,7,10]"]);
  const notSmaller = inferOp("Resize", [x, emptyRoi, null, sizes([10, 10])], { axes: [2, 3], keep_aspect_ratio_policy: "not_smaller" }, { opset: 18 });
  assert.deepEqual(notSmaller.shapes, ["[1,3,10,15]"]);
});

test("Resize: run-time scales are a stated unknown", () => {
  const r = inferOp("Resize", [f32([1, 3, 4, 4]), emptyRoi, f32([4])], {}, { opset: 13 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /scales input is not a known constant/);
});

test("Upsample: scales attribute (opset 7) and input (opset 9)", () => {
  assert.deepEqual(inferOp("Upsample", [f32([1, 1, 2, 2])], { scales: { fs: [1, 1, 2, 3] } }, { opset: 7 }).shapes, ["[1,1,4,6]"]);
  assert.deepEqual(inferOp("Upsample", [f32(["N", 1, 2, 2]), scales([1, 1, 2, 2])], {}, { opset: 9 }).shapes, ["[N,1,4,4]"]);
});

test("GridSample: [N,C,H,W] sampled at a [N,Ho,Wo,2] grid", () => {
  assert.deepEqual(inferOp("GridSample", [f32(["N", 3, 32, 32]), f32(["N", 7, 9, 2])]).shapes, ["[N,3,7,9]"]);
  assert.deepEqual(inferOp("GridSample", [f32([1, 3, 8, 8, 8]), f32([1, 2, 3, 4, 3])], {}, { opset: 20 }).shapes, ["[1,3,2,3,4]"]);
  assert.equal(inferOp("GridSample", [f32([1, 3, 8, 8]), f32([1, 4, 4, 3])]).out[0]?.shape, undefined);
});

test("AffineGrid: [N,H,W,2] from a known size", () => {
  const r = inferOp("AffineGrid", [f32([2, 2, 3]), sizes([2, 3, 5, 6])], {}, { opset: 20 });
  assert.deepEqual(r.shapes, ["[2,5,6,2]"]);
});

test("Col2Im: channels divided by the block size", () => {
  const r = inferOp("Col2Im", [f32([1, 18, 12]), sizes([5, 5]), constTensor("b", "int64", [2], [3, 3])], {}, { opset: 18 });
  assert.deepEqual(r.shapes, ["[1,2,5,5]"]);
  const bad = inferOp("Col2Im", [f32([1, 10, 12]), sizes([5, 5]), constTensor("b", "int64", [2], [3, 3])], {}, { opset: 18 });
  assert.equal(bad.out[0]?.shape, undefined);
});

test("CenterCropPad: listed axes take the target size", () => {
  assert.deepEqual(inferOp("CenterCropPad", [f32([20, 10, 3]), sizes([10, 20])], { axes: [0, 1] }, { opset: 18 }).shapes, ["[10,20,3]"]);
  assert.deepEqual(inferOp("CenterCropPad", [f32([20, 10, 3]), sizes([5, 5, 3])], {}, { opset: 18 }).shapes, ["[5,5,3]"]);
});

test("Resize tf_crop_and_resize: sized from the scales alone, as onnxruntime does (the ROI does not shrink it)", () => {
  const roi = constTensor("roi", "float32", [8], [0, 0, 0.4, 0.6, 1, 1, 0.6, 0.8]);
  const r = inferOp("Resize", [f32([1, 1, 10, 10]), roi, scales([1, 1, 2, 2])], { coordinate_transformation_mode: "tf_crop_and_resize" }, { opset: 13 });
  assert.deepEqual(r.shapes, ["[1,1,20,20]"]);
});

test("Crop (experimental): border cuts H and W, scale gives them", () => {
  assert.deepEqual(inferOp("Crop", [f32(["N", 3, 10, 12])], { border: [1, 2, 3, 4] }, { opset: 8 }).shapes, ["[N,3,4,8]"]);
  assert.deepEqual(inferOp("Crop", [f32([1, 3, 10, 12])], { border: [0, 0, 0, 0], scale: [5, 6] }, { opset: 8 }).shapes, ["[1,3,5,6]"]);
  assert.match(inferOp("Crop", [f32([1, 3, 4, 4])], { border: [2, 2, 2, 2] }, { opset: 8 }).warnings.join("\n"), /leaves nothing/);
});

test("Resize: sizes computed from the input's shape (TorchScript's upsample pattern) stay symbolic", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["N", 3, "H", "W"] } },
    initializers: [constTensor("k", "float32", [4], [1, 1, 2, 2])],
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Cast", inputs: ["s"], outputs: ["f"], attrs: { to: 1 } },
      { op: "Mul", inputs: ["f", "k"], outputs: ["m"] },
      { op: "Floor", inputs: ["m"], outputs: ["fl"] },
      { op: "Cast", inputs: ["fl"], outputs: ["sizes"], attrs: { to: 7 } },
      { op: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["y"], attrs: { mode: "nearest" } },
    ],
    outputs: ["y"],
  });
  assert.deepEqual(r.values.get("y")?.shape?.map(String), ["N", "3", "2*H", "2*W"], r.warnings.join("; "));
});

test("Resize FLOPs: nearest copies; linear blends 2 inputs per resized axis (multiply-add each)", () => {
  const flops = (mode: string) =>
    String(
      infer({
        inputs: { x: { dtype: "float32", shape: [1, 3, 4, 4] } },
        initializers: [emptyRoi, scales([1, 1, 2, 2])],
        nodes: [{ op: "Resize", inputs: ["x", "roi", "scales"], outputs: ["y"], attrs: { mode } }],
        outputs: ["y"],
      }).nodes[0]!.flops,
    );
  assert.equal(flops("nearest"), "0");
  assert.equal(flops("linear"), String(3 * 8 * 8 * 2 * 4));
});
