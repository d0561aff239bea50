import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parseSidecar, readSidecar } from "./sidecar.js";
import { LEGACY_FIXTURES } from "../../bench/shared.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

test("the bundled model's model.json: labels, preprocess, accuracy", () => {
  const s = readSidecar(join(ROOT, "models", "fashion-mobilenetv2", "model.onnx"))!;
  assert.equal(s.labels?.length, 10);
  assert.equal(s.labels?.[3], "Dress");
  assert.deepEqual(s.preprocess?.size, [32, 32]);
  assert.equal(s.preprocess?.layout, "NCHW");
  assert.ok(s.testAccuracy! > 0.9);
});

test("malformed fields are refused with the field named", () => {
  assert.throws(() => parseSidecar({ labels: [1, 2] }, "m.json"), /m\.json: 'labels'/);
  assert.throws(() => parseSidecar({ preprocess: { std: [0] } }, "m.json"), /std' must not contain 0/);
  assert.throws(() => parseSidecar({ preprocess: { size: [32] } }, "m.json"), /size/);
  assert.throws(() => parseSidecar([], "m.json"), /object/);
});

test("no model.json next to a model: undefined", () => {
  assert.equal(readSidecar(join(LEGACY_FIXTURES, "resnet18.onnx")), undefined);
});
