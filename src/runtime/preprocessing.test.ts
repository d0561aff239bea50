import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cropGeometry } from "./preprocess.js";
import { assumptionWarning, metadataFor, resolvePreprocessing, META_LABELS, META_PREPROCESS, PRESETS } from "./preprocessing.js";
import { tempDir } from "../../test/temp.js";

const INPUT = { name: "input", type: "float32", shape: ["batch", 3, 224, 224] };

function folder(files: Record<string, unknown>): string {
  const dir = tempDir("preprocessing");
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), typeof body === "string" ? body : JSON.stringify(body));
  return dir;
}

test("precedence, value by value: options > sidecar > metadata_props > assumed", (t) => {
  const dir = folder({ "a.onnx": "", "a.json": { labels: ["x", "y"], preprocess: { mean: [0.5], std: [0.25] } } });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const metadata = { [META_PREPROCESS]: JSON.stringify({ mean: [0.1], std: [0.2], scale: 0.5, layout: "NCHW" }), [META_LABELS]: JSON.stringify(["m1", "m2"]) };
  const r = resolvePreprocessing({ modelPath: join(dir, "a.onnx"), metadata, explicit: { mean: [0.9] }, explicitName: "command line" });
  assert.deepEqual(r.spec.mean, [0.9]);
  assert.equal(r.origin.mean, "command line");
  assert.deepEqual(r.spec.std, [0.25]);
  assert.equal(r.origin.std, "a.json");
  assert.equal(r.spec.scale, 0.5);
  assert.equal(r.origin.scale, "metadata_props");
  assert.deepEqual(r.labels, ["x", "y"]);
  assert.equal(r.origin.labels, "a.json");
  assert.equal(assumptionWarning(r, "a.onnx", INPUT), undefined, "every value is stated: no warning");
  // Explicit labels win over the sidecar's.
  assert.deepEqual(resolvePreprocessing({ modelPath: join(dir, "a.onnx"), explicitLabels: ["e"] }).labels, ["e"]);
});

test("a preset fills what explicit values leave, its size only where the input's is symbolic", () => {
  const r = resolvePreprocessing({ explicit: { preset: "imagenet", std: [1, 1, 1] } });
  assert.deepEqual(r.spec.mean, [0.485, 0.456, 0.406]);
  assert.equal(r.origin.mean, "--preprocess imagenet");
  assert.deepEqual(r.spec.std, [1, 1, 1]);
  assert.equal(r.spec.size, undefined);
  assert.deepEqual(r.fallbackSize, [224, 224]);
  assert.equal(r.spec.crop, 224 / 256);
  assert.deepEqual(PRESETS.clip.std, [0.26862954, 0.26130258, 0.27577711]);
  assert.deepEqual(resolvePreprocessing({ explicit: { preset: "none" } }).spec.scale, 1);
});

test("a folder with two models: model.json belongs to model.onnx (or the model its \"file\" names), never to the other", (t) => {
  const dir = folder({ "model.onnx": "", "other.onnx": "", "model.json": { labels: ["cat", "dog"] } });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(resolvePreprocessing({ modelPath: join(dir, "model.onnx") }).labels, ["cat", "dog"]);
  const other = resolvePreprocessing({ modelPath: join(dir, "other.onnx") });
  assert.equal(other.labels, undefined);
  assert.match(other.otherSidecar!, /model\.json in its folder is for model\.onnx/);
  assert.match(assumptionWarning(other, "other.onnx", INPUT)!, /model\.json in its folder is for model\.onnx/);
  writeFileSync(join(dir, "model.json"), JSON.stringify({ file: "other.onnx", labels: ["a"] }));
  assert.deepEqual(resolvePreprocessing({ modelPath: join(dir, "other.onnx") }).labels, ["a"]);
  assert.equal(resolvePreprocessing({ modelPath: join(dir, "model.onnx") }).labels, undefined);
});

test("nothing stated: one warning naming every assumed value and how to state it", () => {
  const w = assumptionWarning(resolvePreprocessing({}), "resnet.onnx", INPUT)!;
  for (const part of ["layout NCHW", "scale 1/255", "mean 0", "std 1", "no labels", "--preprocess imagenet|clip|none", "--labels FILE", "resnet.json"]) {
    assert.ok(w.includes(part), `${part} missing from: ${w}`);
  }
  // An ambiguous shape makes the layout itself an assumption.
  const r = resolvePreprocessing({ explicit: { preset: "none" }, explicitLabels: ["a", "b", "c"] });
  assert.equal(assumptionWarning(r, "m.onnx", INPUT), undefined);
  assert.match(assumptionWarning(r, "m.onnx", { ...INPUT, shape: [1, 3, 8, 3] })!, /layout NCHW .*could be either/);
});

test("metadata_props carry what was stated, never what was assumed, and read back the same", () => {
  const r = resolvePreprocessing({ explicit: { preset: "clip" }, explicitLabels: ["a"] });
  const md = metadataFor(r);
  const back = resolvePreprocessing({ metadata: md });
  assert.deepEqual(back.spec, r.spec);
  assert.deepEqual(back.labels, ["a"]);
  assert.deepEqual(metadataFor(resolvePreprocessing({})), {});
  assert.throws(() => resolvePreprocessing({ metadata: { [META_PREPROCESS]: "{" } }), /metadata_props 'memlens.preprocess': not JSON/);
  assert.throws(() => resolvePreprocessing({ metadata: { [META_PREPROCESS]: JSON.stringify({ std: [0] }) } }), /memlens\.preprocess\.std' must not contain 0/);
});

test("resize-and-crop geometry is torchvision's Resize(256) + CenterCrop(224)", () => {
  // 300x260 (w x h): the shorter side 260 -> 256, the other floor(300 * 256 / 260) = 295; crop at round(35.5) = 36 (half to even), 16.
  assert.deepEqual(cropGeometry(300, 260, 224, 224, 224 / 256), { width: 295, height: 256, left: 36, top: 16 });
  assert.deepEqual(cropGeometry(224, 224, 224, 224, 1), { width: 224, height: 224, left: 0, top: 0 });
  assert.deepEqual(cropGeometry(100, 400, 224, 224, 224 / 256), { width: 256, height: 1024, left: 16, top: 400 });
});
