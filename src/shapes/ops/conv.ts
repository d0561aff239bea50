/**
 * Shape rules: convolutions (Conv, ConvTranspose, DeformConv). The sliding-window arithmetic here
 * (pads, auto_pad, dilations, ceil_mode) is shared with the pooling family.
 */
import { add, ceilDiv, equal, floorDiv, mul, product, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { macFlops } from "../util.js";

/** The window attributes of a conv or pool node, resolved against its number of spatial dims. */
export interface Window {
  kernel: Dim[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [begin..., end...]; ignored when autoPad is SAME_* or VALID. */
  pads: number[];
  autoPad: "NOTSET" | "SAME_UPPER" | "SAME_LOWER" | "VALID";
}

/** Read strides/dilations/pads/auto_pad for `n` spatial dims; `kernel` comes from the caller. */
export function readWindow(ctx: InferContext, kernel: Dim[]): Window {
  const n = kernel.length;
  const strides = ctx.ints("strides") ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints("dilations") ?? new Array<number>(n).fill(1);
  const pads = ctx.ints("pads") ?? new Array<number>(2 * n).fill(0);
  if (strides.length !== n) ctx.error(`strides has ${strides.length} values for ${n} spatial dims`);
  if (dilations.length !== n) ctx.error(`dilations has ${dilations.length} values for ${n} spatial dims`);
  if (pads.length !== 2 * n) ctx.error(`pads has ${pads.length} values for ${n} spatial dims`);
  if (strides.some((s) => s <= 0)) ctx.error(`strides must be positive, got [${strides}]`);
  const raw = ctx.string("auto_pad", "NOTSET");
  const autoPad = raw === "SAME_UPPER" || raw === "SAME_LOWER" || raw === "VALID" ? raw : "NOTSET";
  if (raw !== autoPad && raw !== "") ctx.error(`unknown auto_pad '${raw}'`);
  return { kernel, strides, dilations, pads, autoPad };
}

/** Dilated kernel extent: (k-1)*d + 1. */
function extent(k: Dim, d: number): Dim {
  return add(mul(sub(k, 1), d), 1);
}

/**
 * Output spatial dims of a forward window (Conv, pools). With ceil_mode a last window that would start
 * inside the end padding is dropped (what onnxruntime and PyTorch do); when that can not be decided
 * symbolically the larger size is kept, with a warning.
 */
export function windowOutput(ctx: InferContext, input: readonly Dim[], w: Window, ceilMode = false): Dim[] {
  return checkPositive(ctx, input.map((x, i) => windowDim(ctx, x, i, input.length, w, ceilMode)), "output");
}

function windowDim(ctx: InferContext, x: Dim, i: number, rank: number, w: Window, ceilMode: boolean): Dim {
  const s = w.strides[i]!;
  const ek = extent(w.kernel[i]!, w.dilations[i]!);
  if (w.autoPad === "SAME_UPPER" || w.autoPad === "SAME_LOWER") return ceilDiv(x, s);
  if (w.autoPad === "VALID") return add(floorDivPulled(sub(x, ek), s), 1);
  const pb = w.pads[i]!;
  const pe = w.pads[i + rank]!;
  const span = sub(add(x, pb + pe), ek);
  if (typeof span === "number" && span < 0) ctx.error(`window ${String(ek)} is larger than padded input ${String(add(x, pb + pe))}`);
  // ceil(span/s) is written floor((span + s - 1)/s), the form PyTorch uses, so symbolic dims print alike.
  let out = add(floorDivPulled(ceilMode ? add(span, s - 1) : span, s), 1);
  if (!ceilMode) return out;
  if (typeof out === "number" && typeof x === "number") {
    if ((out - 1) * s >= x + pb) out -= 1;
  } else if (typeof ek === "number" && pe + s > ek) {
    // Only reachable when the end pad plus stride exceeds the window: the drop depends on the value.
    ctx.warn(`ceil_mode output along spatial dim ${i} may be one smaller than ${String(out)} depending on the input size`);
  }
  return out;
}

/**
 * floor(a/s) with a constant term that s divides taken out of the floor: floor((H-2)/2) is floor(H/2) - 1.
 * PyTorch's symbolic shapes (and so the dynamo exporter's dim names) are simplified the same way, which
 * keeps a symbolic output dim such as floor(H/2) or floor((H-1)/2) + 1 equal to the exporter's, term for term.
 */
function floorDivPulled(a: Dim, s: number): Dim {
  const k = typeof a === "number" ? a : (a.terms.get("") ?? 0);
  if (typeof a === "number" || k % s !== 0) return floorDiv(a, s);
  return add(floorDiv(sub(a, k), s), k / s);
}

/** A window op's output dims must be positive; a known non-positive one means the attributes do not fit the input. */
export function checkPositive(ctx: InferContext, dims: readonly Dim[], what: string): Dim[] {
  dims.forEach((d, i) => {
    if (typeof d === "number" && d <= 0) ctx.error(`${what} spatial dim ${i} would be ${d}`);
  });
  return dims.slice();
}

/** Kernel spatial dims: the kernel_shape attribute, else the weight's dims after the first two. */
function kernelOf(ctx: InferContext, weight: readonly Dim[], spatial: number): Dim[] {
  const attr = ctx.ints("kernel_shape");
  const k: Dim[] = attr ?? weight.slice(2);
  if (k.length !== spatial) ctx.error(`kernel has ${k.length} dims for ${spatial} spatial dims`);
  return k;
}

function checkChannels(ctx: InferContext, have: Dim, want: Dim, what: string): void {
  if (typeof have === "number" && typeof want === "number" && have !== want) {
    ctx.error(`${what}: input has ${have} channels, weights expect ${want}`);
  }
}

/** Input and weight of Conv/ConvTranspose, their ranks checked, with the group and the window attributes. */
function convOperands(ctx: InferContext): { x: Dim[]; wt: Dim[]; group: number; win: Window } {
  const x = ctx.shape(0);
  const wt = ctx.shape(1);
  if (x.length < 3) ctx.error(`input rank ${x.length} < 3`);
  if (wt.length !== x.length) ctx.error(`weight rank ${wt.length} differs from input rank ${x.length}`);
  return { x, wt, group: ctx.int("group", 1), win: readWindow(ctx, kernelOf(ctx, wt, x.length - 2)) };
}

const conv: OpRule = {
  infer(ctx: InferContext) {
    const { x, wt, group, win } = convOperands(ctx);
    checkChannels(ctx, x[1]!, mul(wt[1]!, group), "Conv");
    const out: TensorInfo = { dtype: ctx.dtype(0), shape: [x[0]!, wt[0]!, ...windowOutput(ctx, x.slice(2), win)] };
    return [out];
  },
  flops(ctx, outs) {
    const y = outs[0]?.shape;
    const wt = ctx.shape(1);
    if (!y) return 0;
    // Each output element is a dot product of length (Cin/groups) * prod(kernel) = prod(W.shape[1:]).
    return macFlops(y[0]!, y[1]!, product(y.slice(2)), product(wt.slice(1)));
  },
};

/** ConvTranspose output spatial dims (ONNX spec formulas, including auto_pad and output_shape). */
function transposeSpatial(ctx: InferContext, x: readonly Dim[], win: Window): Dim[] {
  const n = x.length;
  const outPad = ctx.ints("output_padding") ?? new Array<number>(n).fill(0);
  if (outPad.length !== n) ctx.error(`output_padding has ${outPad.length} values for ${n} spatial dims`);
  const outputShape = ctx.ints("output_shape");
  if (outputShape) {
    // Older exporters sometimes wrote N and C too; the spatial dims are the last n.
    if (outputShape.length !== n && outputShape.length !== n + 2) ctx.error(`output_shape [${outputShape}] for ${n} spatial dims`);
    return outputShape.slice(outputShape.length - n);
  }
  return x.map((xi, i) => {
    const s = win.strides[i]!;
    if (win.autoPad === "SAME_UPPER" || win.autoPad === "SAME_LOWER") return mul(xi, s);
    const full = add(add(mul(sub(xi, 1), s), outPad[i]!), extent(win.kernel[i]!, win.dilations[i]!));
    if (win.autoPad === "VALID") return full;
    return sub(full, win.pads[i]! + win.pads[i + n]!);
  });
}

const convTranspose: OpRule = {
  infer(ctx: InferContext) {
    const { x, wt, group, win } = convOperands(ctx);
    checkChannels(ctx, x[1]!, wt[0]!, "ConvTranspose");
    const spatial = checkPositive(ctx, transposeSpatial(ctx, x.slice(2), win), "output");
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, mul(wt[1]!, group), ...spatial] }];
  },
  flops(ctx) {
    const x = ctx.shape(0);
    const wt = ctx.shape(1);
    // Every input element is scattered through (Cout/groups) * prod(kernel) weights = prod(W.shape[1:]).
    return macFlops(x[0]!, x[1]!, product(x.slice(2)), product(wt.slice(1)));
  },
};

/** DeformConv (opset 19): like Conv; the offset input's spatial dims must be the output's. */
const deformConv: OpRule = {
  since: 19,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const wt = ctx.shape(1);
    if (x.length < 3 || wt.length !== x.length) ctx.error(`input rank ${x.length}, weight rank ${wt.length}`);
    const win = readWindow(ctx, kernelOf(ctx, wt, x.length - 2));
    const spatial = windowOutput(ctx, x.slice(2), win);
    const offset = ctx.input(2).shape;
    if (offset && offset.length === x.length) {
      offset.slice(2).forEach((d, i) => {
        if (typeof d === "number" && typeof spatial[i] === "number" && !equal(d, spatial[i]!)) {
          ctx.error(`offset spatial dim ${i} is ${d}, output is ${String(spatial[i])}`);
        }
      });
    }
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, wt[0]!, ...spatial] }];
  },
  flops(ctx, outs) {
    const y = outs[0]?.shape;
    if (!y) return 0;
    return macFlops(y[0]!, y[1]!, product(y.slice(2)), product(ctx.shape(1).slice(1)));
  },
};

export const rules: OpFamily = {
  Conv: conv,
  ConvTranspose: convTranspose,
  DeformConv: deformConv,
};
