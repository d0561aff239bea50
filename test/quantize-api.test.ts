/**
 * The seed's Example 3 through the package's public API (src/index.ts, the package's main): quantize returns a
 * model of the same kind loadModel returns, and it predicts (one image, an array), lists its layers, reports its
 * memory and saves itself with its preprocessing and labels inside the file.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadModel, MemlensModel, META_LABELS, quantize } from "../src/index.js";
import { BUNDLED_MODEL } from "../src/cli/seed.js";
import { readFashionMnist } from "./fashion-data.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { tempDir } from "./temp.js";

// The 64 test images after the first 1,000 (which the quantize tests evaluate on); calibration uses training
// images. With the model's 91% accuracy a 64-image window scores 84-91% by chance (54-58 right, fp32 and int8
// alike, measured on five windows): the fp32 model's count on the same images is the sharper check.
const UNSEEN = { offset: 1000, count: 64 };

test("quantize(model, { bits: 8 }) returns a model: batched predict on 64 unseen test images >= 85% right, single predict the same", async (t) => {
  const model = await loadModel(BUNDLED_MODEL);
  const q = await quantize(model, { bits: 8 });
  t.after(() => Promise.all([model.close(), q.close()]));
  assert.ok(q instanceof MemlensModel);
  assert.equal(q.report.bits, 8);
  assert.equal(q.report.mode, "static", "calibration/ beside the model makes it static");
  const { images, labels } = readFashionMnist("t10k", UNSEEN.count, UNSEEN.offset);
  assert.equal(images.length, 64);
  const batched = await q.predict(images, { top: 1 });
  const right = batched.filter((p, i) => p.top[0]!.index === labels[i]).length;
  assert.ok(right / 64 >= 0.85, `${right} of 64 right`);
  const fp32 = (await model.predict(images, { top: 1 })).filter((p, i) => p.top[0]!.index === labels[i]).length;
  assert.ok(right >= fp32 - 2, `int8 ${right} right, fp32 ${fp32}`);
  assert.equal(batched[0]!.top[0]!.label, q.labels![batched[0]!.top[0]!.index], "labels carried over from the source");
  const one = await q.predict(images[5]!, { top: 1 });
  assert.equal(one.top[0]!.index, batched[5]!.top[0]!.index);
  assert.ok(Math.abs(one.top[0]!.score - batched[5]!.top[0]!.score) < 1e-4);
  // The same object as loadModel's: layers and memory from the quantized graph.
  assert.ok(q.layers.some((l) => l.op === "QuantizeLinear"));
  assert.ok(q.layers.length > model.layers.length);
  const conv = q.layers.find((l) => l.op === "Conv")!;
  assert.deepEqual(conv.outputShapes({ batch: 8 })[0]!.slice(0, 2), [8, 32]);
  const before = model.memory({ batch: 1, runtime: "ort-cpu" }).memory!.total;
  const after = q.memory({ batch: 1, runtime: "ort-cpu" }).memory!.total;
  assert.ok(after < before, `${after} vs ${before}`);
  assert.ok(q.report.weightBytes.after < 0.3 * q.report.weightBytes.before);
});

test("save(path) writes the quantized model elsewhere with its labels inside; it never writes over its source", async (t) => {
  const dir = tempDir("quantize-api");
  const model = await loadModel(BUNDLED_MODEL);
  const q = await quantize(model, { bits: 8, mode: "dynamic" });
  t.after(async () => {
    await Promise.all([model.close(), q.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const before = readFileSync(BUNDLED_MODEL);
  assert.throws(() => q.save(BUNDLED_MODEL), /that is the input .*refusing to write over it/);
  assert.ok(readFileSync(BUNDLED_MODEL).equals(before), "the source is unchanged");
  mkdirSync(join(dir, "elsewhere"));
  const out = join(dir, "elsewhere", "q.onnx");
  const bytes = q.save(out);
  assert.ok(bytes > 0 && bytes < 0.3 * before.length);
  const saved = loadModelFile(out);
  try {
    assert.deepEqual(JSON.parse(saved.model.metadata[META_LABELS]!), model.labels);
  } finally {
    saved.source.close();
  }
  const copy = await loadModel(out);
  t.after(() => copy.close());
  assert.deepEqual(copy.labels, model.labels);
  assert.equal(copy.preprocessing.origin.mean, "metadata_props");
  assert.deepEqual(copy.warnings, []);
  const { images } = readFashionMnist("t10k", 8, UNSEEN.offset);
  const a = await q.predict(images, { top: 1 });
  const b = await copy.predict(images, { top: 1 });
  assert.deepEqual(b.map((p) => p.top[0]!.label), a.map((p) => p.top[0]!.label));
});
