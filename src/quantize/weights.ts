/**
 * The arithmetic of quantization, on plain typed arrays: per-channel int8 weights, int32 biases,
 * uint8 activation parameters, and 4-bit block packing in the layout of com.microsoft MatMulNBits.
 * No graph here, so each rule is tested on numbers.
 */
import { elementCount } from "../graph/element-count.js";

/** Symmetric per-channel int8: scale[c] = max|w| / qmax, zero point 0. */
export interface ChannelQuant {
  q: Int8Array;
  scales: Float32Array;
}

/**
 * Quantize `w` (row-major, dims) per slice along `axis`. `qmax` is 127, or 63 ("reduce range"): 7-bit
 * weights keep u8*s8 pair sums inside int16 on CPUs without VNNI, where the AVX2 kernel saturates.
 */
export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number, qmax = 127): ChannelQuant {
  const channels = dims[axis] ?? 1;
  const inner = elementCount(dims.slice(axis + 1));
  const amax = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const a = Math.abs(w[i]!);
    if (a > amax[c]!) amax[c] = a;
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = amax[c]! > 0 ? amax[c]! / qmax : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = clamp(Math.round(w[i]! / scales[c]!), -qmax, qmax);
  }
  return { q, scales };
}

/** Bias as int32 at scale x_scale * w_scale[c] (what QLinearConv/QGemm add into their int32 accumulators). */
export function quantizeBias(b: Float32Array, xScale: number, wScales: Float32Array): { q: Int32Array; scales: Float32Array; clipped: number } {
  const q = new Int32Array(b.length);
  const scales = new Float32Array(b.length);
  let clipped = 0;
  for (let c = 0; c < b.length; c++) {
    const s = xScale * (wScales.length === 1 ? wScales[0]! : wScales[c]!);
    scales[c] = s;
    const v = Math.round(b[c]! / s);
    if (v > 2147483647 || v < -2147483648) clipped++;
    q[c] = clamp(v, -2147483648, 2147483647);
  }
  return { q, scales, clipped };
}

/** Asymmetric uint8 parameters for a range; the range is widened to contain 0 so that 0 is exact (padding, ReLU). */
export function uint8Params(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  if (!(b > a) || !Number.isFinite(a) || !Number.isFinite(b)) return { scale: 1, zeroPoint: 0 };
  const scale = (b - a) / 255;
  // "+ 0" turns -0 (from a = 0) into 0.
  const zeroPoint = clamp(Math.round(-a / scale), 0, 255) + 0;
  return { scale, zeroPoint };
}

/** The result of 4-bit block quantization, laid out as MatMulNBits wants it. */
export interface NBitsQuant {
  /** [N, blocksPerCol, blockSize/2]: two values a byte, the lower K index in the low nibble. */
  packed: Uint8Array;
  /** [N * blocksPerCol] */
  scales: Float32Array;
  /** [N * ceil(blocksPerCol / 2)]: 4-bit zero points, two a byte, low nibble first. */
  zeroPoints: Uint8Array;
  blocksPerCol: number;
}

/**
 * Asymmetric 4-bit quantization of B, given as [K, N] row-major (MatMul's layout) or [N, K] (`transposed`),
 * in blocks of `blockSize` along K: scale = (max - min) / 15, zero point = round(-min / scale).
 * K is padded with zeros up to a whole block.
 */
export function quantizeBlocks4(w: Float32Array, k: number, n: number, blockSize: number, transposed: boolean): NBitsQuant {
  const blocksPerCol = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const zpPerCol = Math.ceil(blocksPerCol / 2);
  const packed = new Uint8Array(n * blocksPerCol * blob);
  const scales = new Float32Array(n * blocksPerCol);
  const zeroPoints = new Uint8Array(n * zpPerCol);
  const at = transposed ? (kk: number, nn: number) => w[nn * k + kk]! : (kk: number, nn: number) => w[kk * n + nn]!;
  const block = new Float32Array(blockSize);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocksPerCol; b++) {
      let lo = 0;
      let hi = 0;
      for (let j = 0; j < blockSize; j++) {
        const kk = b * blockSize + j;
        const v = kk < k ? at(kk, col) : 0;
        block[j] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = hi > lo ? (hi - lo) / 15 : 1;
      const zp = clamp(Math.round(-lo / scale), 0, 15);
      scales[col * blocksPerCol + b] = scale;
      const zi = col * zpPerCol + (b >> 1);
      zeroPoints[zi] = b & 1 ? zeroPoints[zi]! | (zp << 4) : zp;
      const base = (col * blocksPerCol + b) * blob;
      for (let j = 0; j < blockSize; j += 2) {
        const q0 = clamp(Math.round(block[j]! / scale) + zp, 0, 15);
        const q1 = clamp(Math.round(block[j + 1]! / scale) + zp, 0, 15);
        packed[base + j / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { packed, scales, zeroPoints, blocksPerCol };
}

/** Decode what quantizeBlocks4 wrote back to [K, N] floats: the reference the tests and error bounds use. */
export function dequantizeBlocks4(qz: NBitsQuant, k: number, n: number, blockSize: number): Float32Array {
  const out = new Float32Array(k * n);
  const blob = blockSize / 2;
  const zpPerCol = Math.ceil(qz.blocksPerCol / 2);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < qz.blocksPerCol; b++) {
      const scale = qz.scales[col * qz.blocksPerCol + b]!;
      const zbyte = qz.zeroPoints[col * zpPerCol + (b >> 1)]!;
      const zp = b & 1 ? zbyte >> 4 : zbyte & 15;
      for (let j = 0; j < blockSize; j++) {
        const kk = b * blockSize + j;
        if (kk >= k) break;
        const byte = qz.packed[(col * qz.blocksPerCol + b) * blob + (j >> 1)]!;
        const q = j & 1 ? byte >> 4 : byte & 15;
        out[kk * n + col] = (q - zp) * scale;
      }
    }
  }
  return out;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
