/**
 * Shape rules: losses. Input [N, C, d1..dk], target [N, d1..dk]. With reduction "none" the loss has the
 * target's shape; with "mean" or "sum" it is a scalar. SoftmaxCrossEntropyLoss may also return log_prob
 * with the scores' shape.
 */
import { equal, mul, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { numel } from "../util.js";

const REDUCTIONS = ["none", "mean", "sum"];

function lossShape(ctx: InferContext): Dim[] {
  const x = ctx.shape(0);
  const t = ctx.shape(1);
  if (x.length < 2) ctx.error(`input rank ${x.length} < 2 (needs N and C)`);
  const expected = [x[0]!, ...x.slice(2)];
  if (t.length !== expected.length) ctx.error(`target rank ${t.length}, expected ${expected.length}`);
  t.forEach((d, i) => {
    const e = expected[i]!;
    if (typeof d === "number" && typeof e === "number" && !equal(d, e)) ctx.error(`target dim ${i} is ${d}, input's is ${e}`);
  });
  const reduction = ctx.string("reduction", "mean");
  if (!REDUCTIONS.includes(reduction)) ctx.error(`unknown reduction '${reduction}'`);
  return reduction === "none" ? expected : [];
}

const nll: OpRule = {
  since: 12,
  infer: (ctx: InferContext) => [{ dtype: ctx.dtype(0), shape: lossShape(ctx) }],
  flops: (ctx) => numel(ctx.shape(1)),
};

const softmaxCrossEntropy: OpRule = {
  since: 12,
  infer(ctx: InferContext) {
    const outs: TensorInfo[] = [{ dtype: ctx.dtype(0), shape: lossShape(ctx) }];
    if (ctx.outputCount > 1) outs.push({ dtype: ctx.dtype(0), shape: ctx.shape(0).slice() });
    return outs;
  },
  // log-softmax over the scores (about 5 per element), then a gather per target element.
  flops: (ctx) => mul(numel(ctx.shape(0)), 5),
};

export const rules: OpFamily = {
  NegativeLogLikelihoodLoss: nll,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
};
