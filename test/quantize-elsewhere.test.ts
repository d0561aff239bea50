/**
 * Issue 11's acceptance: `quantize -o ELSEWHERE` then `predict` on the copy. The copy has no model.json beside it;
 * its preprocessing and labels travel inside the file (metadata_props), so on 300 test images it scores within a
 * point of the fp32 model, for int8 static and dynamic, and prints class names.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BUNDLED_MODEL, PACKAGE_ROOT } from "../src/cli/seed.js";
import { readFashionMnist, writePngs } from "./fashion-data.js";
import { tempDir } from "./temp.js";

const LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js"), ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

function accuracy(model: string, files: string[], labels: Uint8Array): { right: number; stderr: string; top: { label?: string; index: number }[] } {
  const r = memlens("predict", model, ...files, "--top", "1", "--json");
  const preds = (JSON.parse(r.stdout) as { predictions: { file: string; top: { label?: string; index: number }[] }[] }).predictions;
  assert.equal(preds.length, files.length);
  const top = preds.map((p) => p.top[0]!);
  return { right: top.filter((t, i) => t.index === labels[i]).length, stderr: r.stderr, top };
}

test("quantize -o ELSEWHERE, then predict: within 1 point of fp32 on 300 test images (static and dynamic), labels as names", async (t) => {
  const dir = tempDir("elsewhere");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { images, labels } = readFashionMnist("t10k", 300, 2000);
  mkdirSync(join(dir, "images"));
  const files = await writePngs(images, join(dir, "images"));
  const fp32 = accuracy(BUNDLED_MODEL, files, labels);
  assert.ok(fp32.right / 300 > 0.88, `fp32 ${fp32.right} of 300`);
  mkdirSync(join(dir, "other-folder"));
  for (const mode of ["static", "dynamic"]) {
    const out = join(dir, "other-folder", `q-${mode}.onnx`);
    memlens("quantize", BUNDLED_MODEL, "-o", out, "--mode", mode);
    assert.deepEqual(readdirSync(join(dir, "other-folder")).filter((f) => f.endsWith(".json")), [], "no sidecar written beside the copy");
    const q = accuracy(out, files, labels);
    assert.ok(Math.abs(q.right - fp32.right) <= 3, `${mode}: ${q.right} vs fp32 ${fp32.right} of 300`);
    assert.equal(q.stderr, "", `${mode}: no warning, nothing assumed`);
    for (const p of q.top) assert.equal(p.label, LABELS[p.index]);
    const text = memlens("predict", out, files[0]!, "--top", "1").stdout;
    assert.match(text, new RegExp(`preprocessing: 32x32 NCHW .*mean 0\\.286 \\(metadata_props\\).*10 labels \\(metadata_props\\)`));
    assert.match(text, new RegExp(`${LABELS[q.top[0]!.index]!.replace("/", "\\/")} \\d`));
  }
});
