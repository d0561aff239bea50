/**
 * Shape rules: resampling (Resize, Upsample), GridSample, AffineGrid, Col2Im, CenterCropPad.
 *
 * Resize's inputs moved between opsets: 10 has (X, scales); 11+ has (X, roi, scales, sizes), exactly one
 * of scales/sizes given; 18 adds `axes` and `keep_aspect_ratio_policy`. An output dim is floor(in * scale)
 * with the scale as float32, as onnxruntime computes it.
 */
import { equal, floorDiv, mul, product, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, numel } from "../util.js";

/** Largest denominator tried when turning a float scale into p/q for a symbolic dim. */
const MAX_SCALE_DENOMINATOR = 64;

/** floor(d * scale): exact float32 arithmetic for numbers; floor(d*p/q) for symbols when the scale is p/q. */
export function scaleDim(ctx: InferContext, d: Dim, scale: number): Dim {
  const s = Math.fround(scale);
  if (typeof d === "number") return Math.floor(Math.fround(d * s));
  if (s === 1) return d;
  for (let q = 1; q <= MAX_SCALE_DENOMINATOR; q++) {
    const p = Math.round(s * q);
    if (Math.fround(p / q) === s) return floorDiv(mul(d, p), q);
  }
  return ctx.unknown(`scale ${s} applied to symbolic dim ${String(d)} is not a small fraction`);
}

/** The dims Resize acts on: the `axes` attribute (opset 18+) or all of them. */
function resizeAxes(ctx: InferContext, rank: number): number[] {
  const a = ctx.opset >= 18 ? ctx.ints("axes") : undefined;
  if (!a) return Array.from({ length: rank }, (_, i) => i);
  return a.map((x) => axis(ctx, x, rank));
}

/** Input i when present and non-empty (exporters pass empty tensors for "not given"). */
function given(ctx: InferContext, i: number): boolean {
  if (!ctx.has(i)) return false;
  const s = ctx.input(i).shape;
  return !(s && s.length === 1 && s[0] === 0);
}

function fromSizes(ctx: InferContext, x: readonly Dim[], axes: number[], sizes: Dim[]): Dim[] {
  if (sizes.length !== axes.length) ctx.error(`sizes has ${sizes.length} values for ${axes.length} axes`);
  const out = x.slice();
  const policy = ctx.opset >= 18 ? ctx.string("keep_aspect_ratio_policy", "stretch") : "stretch";
  if (policy === "stretch") {
    axes.forEach((a, i) => (out[a] = sizes[i]!));
    return out;
  }
  if (policy !== "not_larger" && policy !== "not_smaller") ctx.error(`unknown keep_aspect_ratio_policy '${policy}'`);
  // One scale for every axis: the smallest (not_larger) or largest (not_smaller) of sizes/in, then rounded.
  const ratios = axes.map((a, i) => {
    const s = sizes[i]!;
    const d = x[a]!;
    if (typeof s !== "number" || typeof d !== "number") ctx.unknown("keep_aspect_ratio_policy with symbolic sizes");
    return s / d;
  });
  const scale = policy === "not_larger" ? Math.min(...ratios) : Math.max(...ratios);
  axes.forEach((a) => (out[a] = Math.round(scale * (x[a] as number))));
  return out;
}

function fromScales(ctx: InferContext, x: readonly Dim[], axes: number[], scales: number[]): Dim[] {
  if (scales.length !== axes.length) ctx.error(`scales has ${scales.length} values for ${axes.length} axes`);
  if (scales.some((s) => !(s > 0))) ctx.error(`scales must be positive, got [${scales}]`);
  const out = x.slice();
  // The spec's text scales tf_crop_and_resize by the ROI's extent too, but onnxruntime and onnx's own
  // inference size the output from the scales alone; we agree with the runtime.
  axes.forEach((a, i) => (out[a] = scaleDim(ctx, x[a]!, scales[i]!)));
  return out;
}

/** Interpolation cost: nearest copies (0); linear and cubic blend 2^r or 4^r inputs per output (r axes). */
function resizeFlops(ctx: InferContext, outs: readonly (TensorInfo | undefined)[]): Dim {
  const y = outs[0]?.shape;
  const x = ctx.input(0).shape;
  if (!y || !x) return 0;
  const mode = ctx.string("mode", "nearest");
  if (mode === "nearest") return 0;
  const resized = y.filter((d, i) => !equal(d, x[i]!)).length;
  const taps = (mode === "cubic" ? 4 : 2) ** resized;
  return mul(numel(y), 2 * taps);
}

const resizeV10: OpRule = {
  since: 10,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const scales = ctx.numbers(1);
    if (!scales) ctx.unknown("scales input is not a known constant");
    return [{ dtype: ctx.dtype(0), shape: fromScales(ctx, x, resizeAxes(ctx, x.length), scales) }];
  },
  flops: resizeFlops,
};

const resizeV11: OpRule = {
  since: 11,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const axes = resizeAxes(ctx, x.length);
    if (given(ctx, 3)) {
      const sizes = ctx.value(3);
      if (!sizes) ctx.unknown("sizes input is not a known constant");
      return [{ dtype: ctx.dtype(0), shape: fromSizes(ctx, x, axes, sizes) }];
    }
    if (!given(ctx, 2)) ctx.error("neither scales nor sizes is given");
    const scales = ctx.numbers(2);
    if (!scales) ctx.unknown("scales input is not a known constant");
    return [{ dtype: ctx.dtype(0), shape: fromScales(ctx, x, axes, scales) }];
  },
  flops: resizeFlops,
};

/** Upsample: scales as an attribute (opset 7) or input (opset 9); deprecated in 10 by Resize. */
const upsample: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    let scales: number[] | undefined;
    if (ctx.opset >= 9) scales = ctx.numbers(1);
    else {
      scales = ctx.floats("scales");
      if (!scales && ctx.opset < 7) scales = [1, 1, ctx.float("height_scale", 1), ctx.float("width_scale", 1)];
    }
    if (!scales) ctx.unknown("scales are not known");
    return [{ dtype: ctx.dtype(0), shape: fromScales(ctx, x, Array.from({ length: x.length }, (_, i) => i), scales) }];
  },
};

/** GridSample: X [N, C, D1..Dr], grid [N, O1..Or, r] -> [N, C, O1..Or]. */
const gridSample: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const grid = ctx.shape(1);
    if (x.length < 3) ctx.error(`input rank ${x.length} < 3`);
    if (grid.length !== x.length) ctx.error(`grid rank ${grid.length} differs from input rank ${x.length}`);
    const last = grid[grid.length - 1]!;
    if (typeof last === "number" && last !== x.length - 2) ctx.error(`grid's last dim is ${last}, expected ${x.length - 2}`);
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, x[1]!, ...grid.slice(1, -1)] }];
  },
  flops: (_ctx, outs) => (outs[0]?.shape ? mul(numel(outs[0].shape), 8) : 0),
};

/** AffineGrid: theta [N, r, r+1], size [N, C, D1..Dr] (a known constant) -> grid [N, D1..Dr, r]. */
const affineGrid: OpRule = {
  since: 20,
  infer(ctx: InferContext) {
    const theta = ctx.shape(0);
    const size = ctx.value(1);
    if (!size) ctx.unknown("size input is not a known constant");
    const r = size.length - 2;
    if (r !== 2 && r !== 3) ctx.error(`size has ${size.length} values; AffineGrid is 2-D or 3-D`);
    if (theta.length !== 3) ctx.error(`theta rank ${theta.length}, expected 3`);
    return [{ dtype: ctx.dtype(0), shape: [size[0]!, ...size.slice(2), r] }];
  },
};

/** Col2Im: input [N, C*prod(block), L], image_shape, block_shape -> [N, C, image...]. */
const col2im: OpRule = {
  since: 18,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const image = ctx.value(1);
    const block = ctx.value(2);
    if (!image || !block) ctx.unknown("image_shape or block_shape is not a known constant");
    if (x.length !== 3) ctx.error(`input rank ${x.length}, expected 3`);
    if (image.length !== block.length) ctx.error(`image_shape has ${image.length} dims, block_shape ${block.length}`);
    const blockSize = product(block);
    const c = floorDiv(x[1]!, blockSize);
    if (!equal(mul(c, blockSize), x[1]!)) ctx.error(`input dim 1 (${String(x[1])}) is not a multiple of the block size ${String(blockSize)}`);
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, c, ...image] }];
  },
};

/** CenterCropPad: the listed axes (all by default) take the target shape; others keep their size. */
const centerCropPad: OpRule = {
  since: 18,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const target = ctx.value(1);
    if (!target) ctx.unknown("shape input is not a known constant");
    const axesAttr = ctx.ints("axes");
    const axes = axesAttr ? axesAttr.map((a) => axis(ctx, a, x.length)) : x.map((_, i) => i);
    if (target.length !== axes.length) ctx.error(`shape has ${target.length} values for ${axes.length} axes`);
    const out = x.slice();
    axes.forEach((a, i) => (out[a] = target[i]!));
    return [{ dtype: ctx.dtype(0), shape: out }];
  },
};

/**
 * Crop (experimental, opsets 1-9): `scale` [h, w] gives the output size directly; otherwise `border`
 * [left, top, right, bottom] is cut from an [N, C, H, W] input.
 */
const crop: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    if (x.length !== 4) ctx.error(`input rank ${x.length}, expected 4 (N, C, H, W)`);
    const scale = ctx.ints("scale");
    if (scale) {
      if (scale.length !== 2) ctx.error(`scale has ${scale.length} values, expected 2`);
      return [{ dtype: ctx.dtype(0), shape: [x[0]!, x[1]!, scale[0]!, scale[1]!] }];
    }
    const border = ctx.ints("border");
    if (!border || border.length !== 4) ctx.error("border must hold 4 values (left, top, right, bottom)");
    const [left, top, right, bottom] = border as [number, number, number, number];
    const h = sub(x[2]!, top + bottom);
    const w = sub(x[3]!, left + right);
    if ((typeof h === "number" && h <= 0) || (typeof w === "number" && w <= 0)) ctx.error(`border [${border}] leaves nothing of [${x.map(String)}]`);
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, x[1]!, h, w] }];
  },
};

export const rules: OpFamily = {
  Crop: crop,
  Resize: [resizeV10, resizeV11],
  Upsample: upsample,
  GridSample: gridSample,
  AffineGrid: affineGrid,
  Col2Im: col2im,
  CenterCropPad: centerCropPad,
};
