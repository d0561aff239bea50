/** loadImage: formats, channels, the pixel limit, and fitting to a model (sharp does the decoding). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { InputError, loadImage, loadModel } from "../src/index.js";
import { BUNDLED_MODEL, SAMPLES_DIR } from "../src/cli/seed.js";

const dress = join(SAMPLES_DIR, "3_dress.png");

test("bytes decode like the file; pixels are HWC uint8", async () => {
  const a = await loadImage(dress);
  const b = await loadImage(readFileSync(dress));
  assert.deepEqual([a.width, a.height, a.channels], [32, 32, 3]);
  assert.equal(a.data.length, 32 * 32 * 3);
  assert.deepEqual(b.data, a.data);
  assert.equal(b.file, "<bytes>");
});

test("alpha is dropped, gray stays one channel", async () => {
  const rgba = await sharp({ create: { width: 4, height: 2, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
  const img = await loadImage(rgba);
  assert.equal(img.channels, 3);
  assert.deepEqual([...img.data.subarray(0, 3)], [10, 20, 30]);
  const gray = await sharp({ create: { width: 3, height: 3, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace("b-w").png().toBuffer();
  assert.equal((await loadImage(gray)).channels, 1);
});

test("an image claiming more than the pixel limit is refused before decoding", async () => {
  // A valid PNG header for a 20000x20000 image (400 Mpixel), no pixel data needed to be refused.
  const big = await sharp({ create: { width: 1, height: 1, channels: 3, background: "black" } }).png().toBuffer();
  const patched = Buffer.from(big);
  patched.writeUInt32BE(20000, 16);
  patched.writeUInt32BE(20000, 20);
  patched.writeUInt32BE(crc32(patched.subarray(12, 29)), 29); // IHDR's CRC, so only the size is wrong
  await assert.rejects(loadImage(patched), (e: unknown) => e instanceof InputError && /pixel limit/.test(e.message));
});

test("with a model, the image is fitted at load: wrong size refused, or resized on request", async () => {
  const model = await loadModel(BUNDLED_MODEL);
  const small = await sharp(dress).resize(20, 20).png().toBuffer();
  await assert.rejects(loadImage(small, { model }), /20x20, the model takes 32x32/);
  const fitted = await loadImage(small, { model, resize: true });
  assert.deepEqual([fitted.width, fitted.height, fitted.channels], [32, 32, 3]);
  const p = await model.predict(fitted);
  assert.equal(p.top.length, 5);
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
