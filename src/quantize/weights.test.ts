import { test } from "node:test";
import assert from "node:assert/strict";
import { percentileRange } from "./calibrate.js";
import { dequantizeBlocks4, quantizeBias, quantizeBlocks4, quantizePerChannel, uint8Params } from "./weights.js";

function random(n: number, seed = 1): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 2 - 1;
  }
  return out;
}

test("per-channel int8: each channel's max maps to 127 and every error is at most half a step", () => {
  const w = random(4 * 3 * 3 * 3);
  w[0] = 5; // channel 0 gets a large scale; the others must not
  const { q, scales } = quantizePerChannel(w, [4, 3, 3, 3], 0);
  assert.equal(scales.length, 4);
  assert.ok(Math.abs(scales[0]! - 5 / 127) < 1e-7);
  assert.ok(scales[1]! < 1 / 127 + 1e-7);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / 27);
    assert.ok(Math.abs(q[i]! * scales[c]! - w[i]!) <= scales[c]! / 2 + 1e-7, `element ${i}`);
  }
  assert.equal(q[0], 127);
});

test("per-channel along axis 1 (MatMul [K, N]) and reduce range", () => {
  const w = new Float32Array([0.5, -8, 2, 3]); // [[0.5, -8], [2, 3]]
  const { q, scales } = quantizePerChannel(w, [2, 2], 1, 63);
  assert.deepEqual([...scales].map((s) => +s.toFixed(6)), [+(2 / 63).toFixed(6), +(8 / 63).toFixed(6)]);
  assert.deepEqual([...q], [16, -63, 63, 24]);
});

test("bias at x_scale * w_scale, and uint8 ranges always contain zero exactly", () => {
  const b = quantizeBias(new Float32Array([1, -0.5]), 0.1, new Float32Array([0.01, 0.02]));
  assert.deepEqual([...b.q], [1000, -250]);
  const p = uint8Params(0.5, 6);
  assert.equal(p.zeroPoint, 0);
  assert.ok(Math.abs(p.scale - 6 / 255) < 1e-9);
  const a = uint8Params(-1, 3);
  assert.equal(a.zeroPoint, Math.round(255 / 4));
});

test("int4 blocks: round trip error at most half a step per block, K padded to whole blocks", () => {
  const k = 80; // not a multiple of 32: the last block is padded
  const n = 3;
  const w = random(k * n, 7);
  for (const transposed of [false, true]) {
    const qz = quantizeBlocks4(w, k, n, 32, transposed);
    assert.equal(qz.blocksPerCol, 3);
    assert.equal(qz.packed.length, n * 3 * 16);
    assert.equal(qz.zeroPoints.length, n * 2);
    const back = dequantizeBlocks4(qz, k, n, 32);
    for (let kk = 0; kk < k; kk++) {
      for (let c = 0; c < n; c++) {
        const orig = transposed ? w[c * k + kk]! : w[kk * n + c]!;
        const step = qz.scales[c * 3 + Math.floor(kk / 32)]!;
        assert.ok(Math.abs(back[kk * n + c]! - orig) <= step / 2 + 1e-6, `k=${kk} n=${c}`);
      }
    }
  }
});

test("percentile range drops the outliers a min-max range keeps", () => {
  const h = new Float64Array(100);
  h[0] = 1; // one outlier at the low end
  for (let i = 10; i < 20; i++) h[i] = 1000;
  h[99] = 1; // one at the high end
  const r = percentileRange(h, { lo: 0, hi: 100 }, 99.99);
  assert.equal(r.lo, 10);
  assert.equal(r.hi, 20);
  assert.deepEqual(percentileRange(h, { lo: 0, hi: 100 }, 100), { lo: 0, hi: 100 });
});
