import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../errors.js";
import { imageSpecFor, mismatch, packBatch, type Pixels } from "./preprocess.js";

const nchw = [{ name: "input", type: "float32", shape: ["batch", 3, 32, 32] }];

test("NCHW spec from the model input, sidecar mean/std/scale", () => {
  const spec = imageSpecFor(nchw, { scale: 1 / 255, mean: [0.5], std: [0.25, 0.25, 0.25] });
  assert.deepEqual(
    { layout: spec.layout, c: spec.channels, h: spec.height, w: spec.width, mean: spec.mean, std: spec.std },
    { layout: "NCHW", c: 3, h: 32, w: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  );
});

test("NHWC is recognised from where the channel dim is; options override the sidecar", () => {
  const spec = imageSpecFor([{ name: "x", type: "float32", shape: ["n", 224, 224, 3] }], { mean: [0.1] }, { mean: [0.2, 0.3, 0.4] });
  assert.equal(spec.layout, "NHWC");
  assert.deepEqual(spec.mean, [0.2, 0.3, 0.4]);
});

test("symbolic image size needs a size; a rank-2 or int input is not an image", () => {
  assert.throws(() => imageSpecFor([{ name: "x", type: "float32", shape: ["n", 3, "h", "w"] }], undefined), /symbolic image size/);
  assert.equal(imageSpecFor([{ name: "x", type: "float32", shape: ["n", 3, "h", "w"] }], { size: [64, 48] }).width, 48);
  assert.throws(() => imageSpecFor([{ name: "input_ids", type: "int64", shape: ["batch", "seq"] }], undefined), (e: unknown) => e instanceof InputError && /not an image/.test(e.message));
  assert.throws(() => imageSpecFor([{ name: "x", type: "int64", shape: [1, 3, 8, 8] }], undefined), /only float32/);
  assert.throws(() => imageSpecFor([{ name: "a", type: "float32", shape: [1, 3, 8, 8] }, { name: "b", type: "float32", shape: [1] }], undefined), /2 inputs/);
});

test("packBatch applies (pixel * scale - mean) / std per channel into NCHW", () => {
  const spec = imageSpecFor([{ name: "x", type: "float32", shape: [1, 3, 1, 2] }], { scale: 1, mean: [1, 2, 3], std: [1, 2, 4] });
  // Two pixels, HWC: (10,20,30) (11,22,33)
  const img: Pixels = { width: 2, height: 1, channels: 3, data: Uint8Array.from([10, 20, 30, 11, 22, 33]) };
  const t = packBatch([img, img], spec);
  assert.deepEqual(t.dims, [2, 3, 1, 2]);
  assert.deepEqual([...t.data].slice(0, 6), [9, 10, 9, 10, 27 / 4, 30 / 4]);
});

test("packBatch NHWC keeps interleaving; wrong size or channels is an InputError naming the file", () => {
  const spec = imageSpecFor([{ name: "x", type: "float32", shape: [1, 1, 2, 1] }], { scale: 1 }, { layout: "NHWC" });
  const ok: Pixels = { width: 2, height: 1, channels: 1, data: Uint8Array.from([5, 7]) };
  assert.deepEqual([...packBatch([ok], spec).data], [5, 7]);
  const rgbSpec = imageSpecFor([{ name: "x", type: "float32", shape: [1, 1, 2, 3] }], { scale: 1 }, { layout: "NHWC" });
  assert.deepEqual([...packBatch([{ width: 2, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) }], rgbSpec).data], [1, 2, 3, 4, 5, 6]);
  const gray: Pixels = { width: 2, height: 2, channels: 1, data: new Uint8Array(4) };
  assert.match(mismatch(gray, spec) ?? "", /2x2, the model takes 2x1/);
  assert.throws(() => packBatch([gray], spec, ["a.png"]), /a\.png: image is 2x2/);
  const rgb: Pixels = { width: 2, height: 1, channels: 3, data: new Uint8Array(6) };
  assert.throws(() => packBatch([rgb], spec), /3 channels, the model takes 1/);
});
