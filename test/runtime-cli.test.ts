/** Bad input to predict/profile: one clear line on stderr and exit 2, never a stack trace. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { BUNDLED_MODEL, PACKAGE_ROOT, SAMPLES_DIR } from "../src/cli/seed.js";
import { LEGACY_FIXTURES, DYNAMO_FIXTURES } from "../bench/shared.js";
import { tempDir } from "./temp.js";

const dir = tempDir("bad-images");
const dress = join(SAMPLES_DIR, "3_dress.png");

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

test("a corrupt image (truncated PNG, text named .png): one line, exit 2", () => {
  const truncated = join(dir, "truncated.png");
  writeFileSync(truncated, readFileSync(dress).subarray(0, 200));
  assertOneLine(memlens("predict", BUNDLED_MODEL, truncated), /truncated\.png: not a readable image/);
  const text = join(dir, "text.png");
  writeFileSync(text, "not an image\n");
  assertOneLine(memlens("predict", BUNDLED_MODEL, text), /text\.png: not a readable image/);
});

test("a wrong image size or channel count: one line naming both, exit 2; --resize/--convert accept them", async () => {
  const small = join(dir, "small.png");
  await sharp(dress).resize(28, 28).toFile(small);
  assertOneLine(memlens("predict", BUNDLED_MODEL, small), /small\.png: image is 28x28, the model takes 32x32/);
  const gray = join(dir, "gray.png");
  await sharp(dress).toColourspace("b-w").toFile(gray);
  assertOneLine(memlens("predict", BUNDLED_MODEL, gray), /gray\.png: image has 1 channel, the model takes 3/);
  const ok = memlens("predict", BUNDLED_MODEL, small, gray, "--resize", "--convert", "--json");
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { predictions: unknown[] }).predictions.length, 2);
});

test("JPEG and WebP decode like the PNG", async () => {
  const jpg = join(dir, "dress.jpg");
  const webp = join(dir, "dress.webp");
  await sharp(dress).jpeg({ quality: 95 }).toFile(jpg);
  await sharp(dress).webp({ lossless: true }).toFile(webp);
  for (const f of [jpg, webp]) {
    const r = memlens("predict", BUNDLED_MODEL, f, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { predictions: { top: { label: string }[] }[] }).predictions[0]!.top[0]!.label, "Dress");
  }
});

test("a model whose input is not an image: one line, exit 2", () => {
  assertOneLine(memlens("predict", join(DYNAMO_FIXTURES, "gpt2.onnx"), dress), /input 'input_ids' \[batch, seq\] is not an image/);
});

test("profile of a model whose weights are absent says --random-weights; a missing image file is exit 2", () => {
  assertOneLine(memlens("profile", join(LEGACY_FIXTURES, "resnet18.onnx")), /resnet18\.weights' is missing.*--random-weights/);
  assertOneLine(memlens("predict", BUNDLED_MODEL, join(dir, "absent.png")), /cannot read image .*absent\.png: ENOENT/);
});
