/**
 * A foreign image classifier: an ONNX file with no sidecar and no memlens metadata (a torchvision-style export:
 * input [batch, 3, 224, 224], ImageNet normalisation expected). Built here with real weights (Conv -> Relu ->
 * GlobalAveragePool -> Flatten -> Gemm, fixed pseudo-random values) so that every test has the same model.
 * - predict prints one warning naming every assumed value;
 * - with --preprocess imagenet it gives what onnxruntime gives on the same tensor prepared by hand;
 * - --labels FILE names the classes; the preprocessing used is printed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { PACKAGE_ROOT } from "../src/cli/seed.js";
import { encodeModel, tensorFromBytes } from "../src/formats/onnx/writer.js";
import type { Model, Node } from "../src/graph/ir.js";
import { createSession } from "../src/runtime/ort.js";
import { sym } from "../src/sym/expr.js";
import { tempDir } from "./temp.js";

const CLASSES = 10;
const FEATURES = 8;

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = ((s / 2 ** 31) * 2 - 1) * scale;
  }
  return out;
}

function classifier(): Model {
  const f32 = (name: string, dims: number[], v: Float32Array) => tensorFromBytes(name, "float32", dims, new Uint8Array(v.buffer));
  const nodes: Node[] = [
    { name: "conv", opType: "Conv", domain: "", inputs: ["input", "w", "b"], outputs: ["c"], attrs: { kernel_shape: { type: "ints", value: [3, 3] }, strides: { type: "ints", value: [2, 2] }, pads: { type: "ints", value: [1, 1, 1, 1] } } },
    { name: "relu", opType: "Relu", domain: "", inputs: ["c"], outputs: ["r"], attrs: {} },
    { name: "gap", opType: "GlobalAveragePool", domain: "", inputs: ["r"], outputs: ["g"], attrs: {} },
    { name: "flat", opType: "Flatten", domain: "", inputs: ["g"], outputs: ["f"], attrs: {} },
    { name: "fc", opType: "Gemm", domain: "", inputs: ["f", "fcw", "fcb"], outputs: ["logits"], attrs: { transB: { type: "int", value: 1 } } },
  ];
  return {
    format: "onnx", file: "classifier.onnx", irVersion: 8, producer: "pytorch", opsets: { "": 17 }, metadata: {}, warnings: [],
    graph: {
      name: "classifier", nodes,
      inputs: [{ name: "input", type: { kind: "tensor", dtype: "float32", shape: [sym("batch"), 3, 224, 224] } }],
      outputs: [{ name: "logits", type: { kind: "tensor", dtype: "float32", shape: [sym("batch"), CLASSES] } }],
      initializers: new Map([
        ["w", f32("w", [FEATURES, 3, 3, 3], values(FEATURES * 27, 7, 0.5))],
        ["b", f32("b", [FEATURES], values(FEATURES, 11, 0.1))],
        ["fcw", f32("fcw", [CLASSES, FEATURES], values(CLASSES * FEATURES, 13, 1))],
        ["fcb", f32("fcb", [CLASSES], values(CLASSES, 17, 0.1))],
      ]),
      valueInfo: new Map(),
    },
  };
}

/** A 224x224 RGB image whose colour varies over it (seeded). */
function pixels(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const v = values(6, seed, 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = Math.round(127.5 + 127.5 * Math.sin(v[c]! * 8 * (x / w) + v[c + 3]! * 8 * (y / h) + c));
    }
  }
  return out;
}

/** The tensor torchvision's Normalize makes of these pixels, by hand: NCHW, (p / 255 - mean) / std. */
function byHand(px: Uint8Array, w: number, h: number, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) out[c * w * h + i] = (px[i * 3 + c]! / 255 - mean[c]!) / std[c]!;
  return out;
}

function softmax(x: Float32Array): number[] {
  const m = Math.max(...x);
  const e = [...x].map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js"), ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

test("a foreign classifier: one warning naming the assumed preprocessing; --preprocess imagenet equals onnxruntime on the hand-made tensor", async (t) => {
  const dir = tempDir("foreign");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "classifier.onnx");
  writeFileSync(model, encodeModel(classifier()));
  const images = [1, 2, 3, 4].map((seed) => ({ file: join(dir, `img${seed}.png`), px: pixels(224, 224, seed) }));
  for (const im of images) await sharp(im.px, { raw: { width: 224, height: 224, channels: 3 } }).png().toFile(im.file);

  const session = await createSession(model, { provider: "cpu" });
  t.after(() => session.release());
  const reference = async (mean: number[], std: number[]) => {
    const data = new Float32Array(images.length * 3 * 224 * 224);
    images.forEach((im, n) => data.set(byHand(im.px, 224, 224, mean, std), n * 3 * 224 * 224));
    const out = (await session.run({ input: { type: "float32", dims: [images.length, 3, 224, 224], data } }))["logits"]!.data as Float32Array;
    return images.map((_, n) => softmax(out.subarray(n * CLASSES, (n + 1) * CLASSES)));
  };
  const top1 = (p: number[]) => p.indexOf(Math.max(...p));
  const predicted = (stdout: string) => (JSON.parse(stdout) as { predictions: { top: { index: number; score: number }[] }[] }).predictions.map((p) => p.top[0]!);

  // No sidecar, no metadata: one warning, naming each assumed value; the run uses those assumptions.
  const plain = memlens("predict", model, ...images.map((i) => i.file), "--top", "1", "--json");
  const warnings = plain.stderr.split("\n").filter((l) => l !== "");
  assert.equal(warnings.length, 1, plain.stderr);
  for (const part of ["scale 1/255", "mean 0", "std 1", "no labels", "layout NCHW", "--preprocess"]) assert.ok(warnings[0]!.includes(part), `${part}: ${warnings[0]}`);
  const assumed = await reference([0, 0, 0], [1, 1, 1]);
  predicted(plain.stdout).forEach((p, n) => {
    assert.equal(p.index, top1(assumed[n]!));
    assert.ok(Math.abs(p.score - assumed[n]![p.index]!) < 1e-5);
  });

  const imagenet = await reference([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
  const withPreset = memlens("predict", model, ...images.map((i) => i.file), "--top", "1", "--json", "--preprocess", "imagenet");
  predicted(withPreset.stdout).forEach((p, n) => {
    assert.equal(p.index, top1(imagenet[n]!), `image ${n}`);
    assert.ok(Math.abs(p.score - imagenet[n]![p.index]!) < 1e-5, `image ${n}: ${p.score} vs ${imagenet[n]![p.index]}`);
  });
  assert.ok(images.some((_, n) => Math.abs(imagenet[n]![0]! - assumed[n]![0]!) > 1e-3), "the two preprocessings differ on these images");

  // The preprocessing it used is printed; --labels names the classes and silences the warning.
  const labels = join(dir, "labels.txt");
  writeFileSync(labels, Array.from({ length: CLASSES }, (_, i) => `thing ${i}`).join("\n") + "\n");
  const named = memlens("predict", model, images[0]!.file, "--top", "1", "--preprocess", "imagenet", "--labels", labels);
  assert.equal(named.stderr, "");
  assert.match(named.stdout, /preprocessing: 224x224 NCHW \(input shape\), scale 1\/255 \(--preprocess imagenet\), mean \[0\.485, 0\.456, 0\.406\] \(--preprocess imagenet\)/);
  assert.match(named.stdout, new RegExp(`thing ${top1(imagenet[0]!)} \\d`));
});

test("--preprocess imagenet resizes the shorter side to 256 and crops the centre 224, as torchvision does", async (t) => {
  const dir = tempDir("foreign-crop");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "classifier.onnx");
  writeFileSync(model, encodeModel(classifier()));
  const file = join(dir, "wide.png");
  await sharp(pixels(300, 260, 5), { raw: { width: 300, height: 260, channels: 3 } }).png().toFile(file);
  // By hand: 300x260 -> 295x256 (bilinear), then the 224x224 window at (36, 16).
  const resized = await sharp(file).removeAlpha().resize(295, 256, { fit: "fill", kernel: "linear" }).raw().toBuffer();
  const crop = new Uint8Array(224 * 224 * 3);
  for (let y = 0; y < 224; y++) crop.set(resized.subarray(((y + 16) * 295 + 36) * 3, ((y + 16) * 295 + 36 + 224) * 3), y * 224 * 3);
  const session = await createSession(model, { provider: "cpu" });
  t.after(() => session.release());
  const data = byHand(crop, 224, 224, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
  const ref = softmax((await session.run({ input: { type: "float32", dims: [1, 3, 224, 224], data } }))["logits"]!.data as Float32Array);
  const r = memlens("predict", model, file, "--json", "--top", "3", "--preprocess", "imagenet");
  const top = (JSON.parse(r.stdout) as { predictions: { top: { index: number; score: number }[] }[] }).predictions[0]!.top;
  for (const s of top) assert.ok(Math.abs(s.score - ref[s.index]!) < 1e-5, `${s.index}: ${s.score} vs ${ref[s.index]}`);
  assert.equal(top[0]!.index, ref.indexOf(Math.max(...ref)));
});
