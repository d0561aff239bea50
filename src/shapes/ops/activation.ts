/**
 * Shape rules: activations. All keep their input's shape and dtype. Softmax, LogSoftmax and Hardmax
 * before opset 13 coerce the input to 2-D around `axis` to compute, but their output has the input's shape.
 */
import { mul } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule } from "../types.js";
import { axis, broadcast, numel, same } from "../util.js";

/**
 * Same shape and dtype. FLOPs follow the project's convention for elementwise ops, one per output element,
 * whatever the function's internal arithmetic (exp, erf, ...): comparable across models, not a cycle count.
 */
const pointwise: OpRule = {
  infer: (ctx) => [same(ctx)],
  flops: (ctx) => numel(ctx.shape(0)),
};

/** Softmax-like ops: check the axis against the rank, keep the shape; `cost` flops per element. */
function alongAxis(cost: number, defaultAxis: number): OpRule {
  return {
    infer(ctx: InferContext) {
      const x = ctx.shape(0);
      if (x.length > 0) axis(ctx, ctx.int("axis", defaultAxis), x.length);
      return [same(ctx)];
    },
    flops: (ctx) => mul(numel(ctx.shape(0)), cost),
  };
}

/** The softmax family for both axis conventions: before opset 13 the default axis is 1, after it -1. */
function softmaxFamily(cost: number): OpRule[] {
  return [alongAxis(cost, 1), { ...alongAxis(cost, -1), since: 13 }];
}

/**
 * PRelu: from opset 7 the slope broadcasts unidirectionally to X; before, it is per channel (or one value).
 * Either way the output has X's shape.
 */
const prelu: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const slope = ctx.shape(1);
    if (ctx.opset >= 7) {
      const b = broadcast(ctx, [x, slope]);
      const grows = b.length !== x.length || b.some((d, i) => typeof d === "number" && d !== x[i]);
      if (grows) ctx.error(`slope [${slope.map(String)}] does not broadcast to X [${x.map(String)}]`);
    }
    return [same(ctx)];
  },
  flops: (ctx) => numel(ctx.shape(0)),
};

export const rules: OpFamily = {
  Relu: pointwise,
  LeakyRelu: pointwise,
  PRelu: prelu,
  Elu: pointwise,
  Selu: pointwise,
  Celu: pointwise,
  Sigmoid: pointwise,
  HardSigmoid: pointwise,
  HardSwish: pointwise,
  Tanh: pointwise,
  Softplus: pointwise,
  Softsign: pointwise,
  Gelu: pointwise,
  Mish: pointwise,
  ThresholdedRelu: pointwise,
  Shrink: pointwise,
  // Experimental ops of opsets 1-9 that older model zoo files still contain (tiny-yolov2's ImageScaler).
  ImageScaler: pointwise,
  ScaledTanh: pointwise,
  ParametricSoftplus: pointwise,
  Affine: pointwise,
  Softmax: softmaxFamily(5),
  LogSoftmax: softmaxFamily(5),
  Hardmax: softmaxFamily(2),
};
