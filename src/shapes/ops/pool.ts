/** Shape rules: pooling (windowed, global, ROI) and MaxUnpool. Window arithmetic lives in conv.ts. */
import { add, mul, product, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { numel } from "../util.js";
import { readWindow, windowOutput } from "./conv.js";

function batchedInput(ctx: InferContext): Dim[] {
  const x = ctx.shape(0);
  if (x.length < 3) ctx.error(`input rank ${x.length} < 3 (pools take N, C and spatial dims)`);
  return x;
}

function kernelAttr(ctx: InferContext, spatial: number): number[] {
  const k = ctx.ints("kernel_shape");
  if (!k) ctx.error("kernel_shape attribute is required");
  if (k.length !== spatial) ctx.error(`kernel_shape has ${k.length} dims for ${spatial} spatial dims`);
  return k;
}

/**
 * A windowed pool. `ceilSince`: the opset where ceil_mode became an attribute (before it, the spec of
 * that opset has no such attribute, so a stray one is ignored). Dilations are read whenever present.
 */
function windowPool(ceilSince: number, withIndices: boolean): OpRule {
  return {
    infer(ctx) {
      const x = batchedInput(ctx);
      const win = readWindow(ctx, kernelAttr(ctx, x.length - 2));
      const ceil = ctx.opset >= ceilSince && ctx.int("ceil_mode", 0) !== 0;
      const shape = [x[0]!, x[1]!, ...windowOutput(ctx, x.slice(2), win, ceil)];
      const outs: TensorInfo[] = [{ dtype: ctx.dtype(0), shape }];
      if (withIndices && ctx.outputCount > 1) outs.push({ dtype: "int64", shape: shape.slice() });
      return outs;
    },
    flops(ctx, outs) {
      const y = outs[0]?.shape;
      if (!y) return 0;
      return mul(numel(y), product(kernelAttr(ctx, y.length - 2)));
    },
  };
}

/** Global pools: spatial dims become 1; one op per input element. */
const globalPool: OpRule = {
  infer(ctx: InferContext) {
    const x = batchedInput(ctx);
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, x[1]!, ...x.slice(2).map(() => 1)] }];
  },
  flops: (ctx) => numel(ctx.shape(0)),
};

/** MaxRoiPool: rois [num_rois, 5] -> [num_rois, C, pooled_h, pooled_w]. */
const maxRoiPool: OpRule = {
  infer(ctx: InferContext) {
    const x = batchedInput(ctx);
    const rois = ctx.shape(1);
    const pooled = ctx.ints("pooled_shape");
    if (!pooled || pooled.length !== 2) ctx.error("pooled_shape must hold 2 values");
    if (rois.length !== 2) ctx.error(`rois rank ${rois.length}, expected 2`);
    return [{ dtype: ctx.dtype(0), shape: [rois[0]!, x[1]!, ...pooled] }];
  },
};

/** RoiAlign: rois [num_rois, 4] -> [num_rois, C, output_height, output_width]. */
const roiAlign: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const rois = ctx.shape(1);
    if (x.length !== 4) ctx.error(`input rank ${x.length}, expected 4`);
    if (rois.length !== 2) ctx.error(`rois rank ${rois.length}, expected 2`);
    const h = ctx.int("output_height", 1);
    const w = ctx.int("output_width", 1);
    return [{ dtype: ctx.dtype(0), shape: [rois[0]!, x[1]!, h, w] }];
  },
  flops(ctx, outs) {
    const y = outs[0]?.shape;
    if (!y) return 0;
    // Bilinear interpolation: 4 samples per sampling point, sampling_ratio^2 points per bin (2 when adaptive).
    const ratio = ctx.int("sampling_ratio", 0) || 2;
    return mul(numel(y), 4 * ratio * ratio);
  },
};

/** MaxUnpool: output_shape input when given, else (in-1)*stride + kernel - pads per spatial dim. */
const maxUnpool: OpRule = {
  infer(ctx: InferContext) {
    const x = batchedInput(ctx);
    if (ctx.has(2)) {
      const v = ctx.value(2);
      if (!v) ctx.unknown("output_shape input is not a known constant");
      if (v.length !== x.length) ctx.error(`output_shape has ${v.length} values for rank ${x.length}`);
      return [{ dtype: ctx.dtype(0), shape: v.slice() }];
    }
    const k = kernelAttr(ctx, x.length - 2);
    const win = readWindow(ctx, k);
    const n = k.length;
    const spatial = x.slice(2).map((d, i) => sub(add(mul(sub(d, 1), win.strides[i]!), k[i]!), win.pads[i]! + win.pads[i + n]!));
    return [{ dtype: ctx.dtype(0), shape: [x[0]!, x[1]!, ...spatial] }];
  },
};

export const rules: OpFamily = {
  MaxPool: windowPool(10, true),
  AveragePool: windowPool(10, false),
  LpPool: windowPool(18, false),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  MaxRoiPool: maxRoiPool,
  RoiAlign: roiAlign,
  MaxUnpool: maxUnpool,
};
