import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadImage, loadModel } from "../src/index.js";
import { BUNDLED_MODEL, PACKAGE_ROOT, SAMPLES_DIR } from "../src/cli/seed.js";
import { tempDir } from "./temp.js";

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

test("memlens with no arguments runs the seed's three examples, exit 0, and leaves no temporary folder", (t) => {
  const tmp = tempDir("seed-test");
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js")], { encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  // Example 1: one image, one batch, the layers' activations.
  assert.match(out, /== Example 1: predict 10 sample images of 32x32x3 \(3,072 bytes each\)/);
  assert.match(out, /model\.predict\(image\): 3_dress\.png -> Dress \d/);
  const fp32 = /(\d+) of 10 correct/.exec(out);
  assert.ok(fp32 && Number(fp32[1]) >= 9, out.slice(0, 800));
  assert.match(out, /for \(const layer of model\.layers\): 100 layers \(and 70 Constant nodes\); the 5 largest activations at batch 32:\n.*\n\s+\/features\/features\.2\/conv\/conv\.0\/conv\.0\.0\/Conv\s+Conv\s+\[32,96,16,16\]\s+3\.0 MiB/);
  // Example 2: measured beside predicted, then the memory explanations.
  assert.match(out, /== Example 2: profile.*\n100 layers measured, 0 disagree with the predicted output sizes; peak RSS/);
  assert.match(out, /model\.memory\(\{ batch: 1, runtime: "pytorch-cuda", device: "h100" \}\)/);
  assert.match(out, /model\.memory\(\{ batch: 32, runtime: "pytorch-cuda", device: "h100" \}\)/);
  assert.match(out, /\n\s+total\s+[\d.]+ MiB/, "the explanation of where the memory goes");
  // Example 3: quantized, saved, predicted again; file, weights and memory before and after.
  assert.match(out, /== Example 3: quantize\(model, \{ bits: 8 \}\)/);
  assert.match(out, /int8 static \(minmax calibration on 256 images\): 63 layers quantized/);
  for (const row of ["file", "weights", "memory, ort-cpu batch 10"]) assert.match(out, new RegExp(`\\n  ${row}\\s+[\\d.]+ [KM]iB  [\\d.]+ [KM]iB \\(\\d+%`), row);
  const int8 = /samples correct\s+\d+ of 10\s+(\d+) of 10/.exec(out);
  assert.ok(int8 && Number(int8[1]) >= 9, out.slice(-800));
  assert.deepEqual(readdirSync(tmp), [], "the quantized model's temporary folder is removed");
});
