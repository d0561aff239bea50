import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadImage, loadModel } from "../src/index.js";
import { BUNDLED_MODEL, PACKAGE_ROOT, SAMPLES_DIR } from "../src/cli/seed.js";

const files = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith(".png")).sort();
const truth = (file: string) => Number(file.split("_")[0]);

test("the 10 bundled samples: at least 9 predicted correctly, one batch, labels from model.json", async () => {
  const model = await loadModel(BUNDLED_MODEL);
  try {
    const images = await Promise.all(files.map((f) => loadImage(join(SAMPLES_DIR, f))));
    assert.equal(images.length, 10);
    const preds = await model.predict(images, { top: 3 });
    const correct = preds.filter((p) => p.top[0]!.index === truth(p.file)).length;
    assert.ok(correct >= 9, `only ${correct} of 10 correct: ${preds.map((p) => `${p.file}->${p.top[0]!.label}`).join(", ")}`);
    for (const p of preds) {
      assert.equal(p.top.length, 3);
      assert.equal(p.top[0]!.label, model.labels![p.top[0]!.index]);
      assert.ok(p.top[0]!.score >= p.top[1]!.score);
    }
    // A single image gives the same answer as its row of the batch (same session, batch of one).
    const one = await model.predict(images[3]!, { raw: true });
    assert.equal(one.top[0]!.index, preds[3]!.top[0]!.index);
    assert.ok(Math.abs(one.top[0]!.score - preds[3]!.top[0]!.score) < 1e-5);
    assert.deepEqual(one.raw!["logits"]!.dims, [1, 10]);
  } finally {
    await model.close();
  }
});

test("layers: predicted shapes and activation sizes follow the batch", async () => {
  const model = await loadModel(BUNDLED_MODEL);
  const first = model.layers[0]!;
  assert.equal(first.op, "Conv");
  assert.deepEqual(first.outputShapes({ batch: 32 }), [[32, 32, 16, 16]]);
  assert.equal(first.activationSize({ batch: 32 }), 32 * 32 * 16 * 16 * 4);
  assert.equal(first.activationSize({ batch: 1 }), 32 * 16 * 16 * 4);
  const last = model.layers.at(-1)!;
  assert.deepEqual(last.outputShapes({ batch: 7 }), [[7, 10]]);
  const report = model.memory({ batch: 32, runtime: "pytorch-cuda", device: "h100" });
  assert.equal(report.settings.batch, 32);
  assert.ok(report.memory && report.memory.total > report.memory.weights, "memory() carries the runtime estimate");
});

test("CLI predict --json on two samples: the contract shape", () => {
  const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js"), "predict", BUNDLED_MODEL,
    join(SAMPLES_DIR, files[1]!), join(SAMPLES_DIR, files[8]!), "--top", "2", "--json"], { encoding: "utf8" });
  const json = JSON.parse(out) as { predictions: { file: string; top: { index: number; label: string; score: number }[] }[] };
  assert.deepEqual(json.predictions.map((p) => p.file), [files[1], files[8]]);
  assert.deepEqual(json.predictions.map((p) => p.top[0]!.label), ["Trouser", "Bag"]);
  assert.equal(json.predictions[0]!.top.length, 2);
});

test("memlens with no arguments runs the seed's scenario: predictions, then batch 1 and 32", () => {
  const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js")], { encoding: "utf8" });
  const m = /(\d+) of 10 correct/.exec(out);
  assert.ok(m && Number(m[1]) >= 9, out.slice(0, 800));
  assert.match(out, /memory at batch 1, pytorch-cuda on h100/);
  assert.match(out, /memory at batch 32, pytorch-cuda on h100/);
  assert.match(out, /\n\s+total\s+[\d.]+ MiB/, "the explanation of where the memory goes");
});
