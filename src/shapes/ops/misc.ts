/** Shape rules: signal processing (DFT, STFT), image decoding and linear algebra (Det). */
import { add, dimToString, floorDiv, mul, product, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule } from "../types.js";
import { axis, scalarValue } from "../util.js";

/**
 * An FFT of length n costs about 5·n·log2(n) real flops (the convention FFT benchmarks report). The length
 * must be a number: a symbolic length has no polynomial log, so the count is left unknown.
 */
function fftFlops(ctx: InferContext, n: Dim): number {
  if (typeof n !== "number") return ctx.unknown(`FFT length ${dimToString(n)} is symbolic`);
  return n <= 1 ? 0 : Math.round(5 * n * Math.log2(n));
}

/** One-sided transforms keep floor(n/2) + 1 bins (the rest mirror them). */
function bins(n: Dim, onesided: boolean): Dim {
  return onesided ? add(floorDiv(n, 2), 1) : n;
}

/**
 * DFT. Input [batch, n1, ..., nk, 1|2] (real or complex); output has last dim 2. Opset 17 takes the axis as an
 * attribute (default 1); opset 20 as input 2 (default -2, counted against the input's rank).
 */
function dft(axisOf: (ctx: InferContext, rank: number) => number): OpRule {
  return {
    infer(ctx) {
      const s = ctx.shape(0);
      if (s.length < 2) ctx.error(`input of rank ${s.length}, want >= 2`);
      const last = s[s.length - 1]!;
      if (typeof last === "number" && last !== 1 && last !== 2) ctx.error(`last dim ${last}, want 1 (real) or 2 (complex)`);
      const a = axisOf(ctx, s.length);
      if (a === 0 || a === s.length - 1) ctx.error(`axis ${a} is not a signal axis`);
      const inverse = ctx.int("inverse", 0) === 1;
      const onesided = ctx.int("onesided", 0) === 1;
      if (inverse && onesided) ctx.error("onesided inverse transforms are not defined");
      let n = s[a]!;
      if (ctx.has(1)) n = scalarValue(ctx, 1) ?? ctx.unknown("dft_length (input 1) is computed at run time");
      const shape = s.slice();
      shape[a] = bins(n, onesided);
      shape[s.length - 1] = 2;
      return [{ dtype: ctx.dtype(0), shape }];
    },
    flops(ctx) {
      const s = ctx.shape(0);
      const a = axisOf(ctx, s.length);
      const n = ctx.has(1) ? (scalarValue(ctx, 1) ?? s[a]!) : s[a]!;
      // One transform per position of the other dims (batch and the other signal axes).
      return mul(product(s.filter((_, k) => k !== a && k !== s.length - 1)), fftFlops(ctx, n));
    },
  };
}

const dft17 = dft((ctx, rank) => axis(ctx, ctx.int("axis", 1), rank));
const dft20 = dft((ctx, rank) => {
  if (!ctx.has(2)) return rank - 2;
  const v = scalarValue(ctx, 2);
  return typeof v === "number" ? axis(ctx, v, rank) : ctx.unknown("axis (input 2) is not known");
});

const STFT: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length !== 3) ctx.error(`signal of rank ${s.length}, want [batch, length, 1|2]`);
    const [batch, length] = s as [Dim, Dim, Dim];
    const step = scalarValue(ctx, 1) ?? ctx.unknown("frame_step (input 1) is computed at run time");
    let frame: Dim | undefined;
    if (ctx.has(3)) frame = scalarValue(ctx, 3) ?? ctx.unknown("frame_length (input 3) is computed at run time");
    else if (ctx.has(2)) frame = ctx.shape(2)[0];
    frame ??= ctx.error("neither a window nor a frame_length");
    const frames = add(floorDiv(sub(length, frame), step), 1);
    const onesided = ctx.int("onesided", 1) === 1;
    return [{ dtype: ctx.dtype(0), shape: [batch, frames, bins(frame, onesided), 2] }];
  },
  flops(ctx, outs) {
    const out = outs[0]?.shape;
    const frame = ctx.has(3) ? scalarValue(ctx, 3) : ctx.has(2) ? ctx.shape(2)[0] : undefined;
    if (!out || frame === undefined) return ctx.unknown("frames not known");
    return mul(mul(out[0]!, out[1]!), fftFlops(ctx, frame));
  },
};

const Det: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length < 2) ctx.error(`input of rank ${s.length}, want [..., M, M]`);
    return [{ dtype: ctx.dtype(0), shape: s.slice(0, -2) }];
  },
  /** LU decomposition: about (2/3)·n³ multiply-adds per matrix, so (4/3)·n³ flops. */
  flops(ctx) {
    const s = ctx.shape(0);
    const n = s[s.length - 1]!;
    return mul(product(s.slice(0, -2)), floorDiv(mul(4, mul(mul(n, n), n)), 3));
  },
};

/**
 * ImageDecoder (opset 20): [height, width, channels] uint8. The size is in the encoded bytes, which shape
 * inference does not decode, so height and width are fresh symbols; channels follow pixel_format.
 */
const ImageDecoder: OpRule = {
  infer(ctx) {
    ctx.shape(0);
    const format = ctx.string("pixel_format", "RGB");
    if (format !== "RGB" && format !== "BGR" && format !== "Grayscale") ctx.error(`unknown pixel_format '${format}'`);
    const h = ctx.fresh("image_height");
    const w = ctx.fresh("image_width");
    ctx.warn(`the decoded size is in the image bytes: ${dimToString(h)} x ${dimToString(w)}, no upper bound`);
    return [{ dtype: "uint8", shape: [h, w, format === "Grayscale" ? 1 : 3] }];
  },
};

export const rules: OpFamily = {
  ImageDecoder,
  DFT: [
    { since: 17, ...dft17 },
    { since: 20, ...dft20 },
  ],
  STFT,
  Det,
};
