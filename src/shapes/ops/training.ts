/**
 * Shape rules: the ai.onnx.preview.training domain. The optimizers (Adagrad, Momentum, Adam) take
 * R (learning rate), T (step), then n tensors per group (X, G, and one or two state groups) and return the
 * updated X's and states, each shaped like its input. Gradient returns one gradient per `xs` input.
 */
import { mul } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { numel, sumDims } from "../util.js";

const DOMAIN = "ai.onnx.preview.training";

/**
 * An optimizer with `groups` groups of n inputs after R and T (X, G, states...), returning X and the
 * states: every output group except G's. `perElement` is the flop count per updated element.
 */
function optimizer(groups: number, perElement: number): OpRule {
  const n = (ctx: InferContext): number => {
    const count = (ctx.inputs.length - 2) / groups;
    if (!Number.isInteger(count) || count < 1) ctx.error(`expected 2 + ${groups}*n inputs, got ${ctx.inputs.length}`);
    return count;
  };
  return {
    domain: DOMAIN,
    infer(ctx: InferContext) {
      const count = n(ctx);
      const out: TensorInfo[] = [];
      for (let g = 0; g < groups; g++) {
        if (g === 1) continue; // the gradients are inputs only
        for (let k = 0; k < count; k++) {
          const i = 2 + g * count + k;
          out.push({ dtype: ctx.dtype(i), shape: ctx.shape(i).slice() });
        }
      }
      return out;
    },
    flops(ctx) {
      const count = n(ctx);
      return mul(perElement, sumDims(Array.from({ length: count }, (_, k) => numel(ctx.shape(2 + k)))));
    },
  };
}

const gradient: OpRule = {
  domain: DOMAIN,
  infer(ctx: InferContext) {
    const xs = ctx.strings("xs");
    if (!xs) ctx.error("attribute 'xs' is required");
    if (!ctx.string("y")) ctx.error("attribute 'y' is required");
    return xs.map((_, i) => ({ dtype: ctx.dtype(i), shape: ctx.shape(i).slice() }));
  },
};

export const rules: OpFamily = {
  Adagrad: optimizer(3, 6),
  Momentum: optimizer(3, 4),
  Adam: optimizer(4, 12),
  Gradient: gradient,
};
