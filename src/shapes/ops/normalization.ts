/**
 * Shape rules: normalizations and Dropout. Y always has X's shape and dtype; what differs between ops
 * (and opsets) is the optional statistics outputs.
 */
import { dtypeFromCode, type DType } from "../../graph/dtype.js";
import { mul, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, numel, same } from "../util.js";

/** Same shape; `cost` flops per element. */
function normalize(cost: number): OpRule {
  return { infer: (ctx) => [same(ctx)], flops: (ctx) => mul(numel(ctx.shape(0)), cost) };
}

function channels(ctx: InferContext): Dim {
  const x = ctx.shape(0);
  if (x.length < 2) ctx.error(`input rank ${x.length} < 2 (no channel dim)`);
  return x[1]!;
}

/** Statistics dtype: the mean input's (opset 15 lets it differ from X's), else X's. */
function statsDtype(ctx: InferContext): DType {
  return ctx.input(3).dtype ?? ctx.dtype(0);
}

/**
 * BatchNormalization. Before opset 14 the optional outputs are mean, var, saved_mean, saved_var (all [C]),
 * produced in training; from opset 14 only running_mean and running_var, and only with training_mode=1.
 */
const batchNorm: OpRule = {
  infer(ctx: InferContext) {
    const y = same(ctx);
    const outs: (TensorInfo | undefined)[] = [y];
    if (ctx.outputCount > 1) {
      const c = channels(ctx);
      const dtype = ctx.opset >= 15 ? statsDtype(ctx) : ctx.dtype(0);
      if (ctx.opset >= 14 && ctx.int("training_mode", 0) === 0) {
        ctx.warn("running_mean/running_var outputs requested with training_mode=0: sized as in training");
      }
      // The statistics have the running mean's shape: [C], or [C, D1..] with opset < 7's spatial=0.
      const stat = ctx.input(3).shape ?? [c];
      const count = ctx.opset >= 14 ? Math.min(ctx.outputCount, 3) : Math.min(ctx.outputCount, 5);
      for (let i = 1; i < count; i++) outs.push({ dtype, shape: stat.slice() });
    }
    return outs;
  },
  // Inference: one multiply-add per element (scale and shift folded); training adds the statistics pass.
  flops: (ctx) => mul(numel(ctx.shape(0)), ctx.int("training_mode", 0) ? 6 : 2),
};

/** The ONNX TensorProto code of float32, LayerNormalization's default stash_type. */
const FLOAT32_CODE = 1;

/** LayerNormalization (opset 17): Mean and InvStdDev keep X's leading dims up to `axis`, then 1s. */
const layerNorm: OpRule = {
  since: 17,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const outs: TensorInfo[] = [same(ctx)];
    if (ctx.outputCount > 1) {
      const a = axis(ctx, ctx.int("axis", -1), x.length);
      const code = ctx.int("stash_type", FLOAT32_CODE);
      const dtype = dtypeFromCode(code);
      if (!dtype) ctx.error(`unknown stash_type ${code}`);
      const stat = [...x.slice(0, a), ...x.slice(a).map(() => 1)];
      for (let i = 1; i < Math.min(ctx.outputCount, 3); i++) outs.push({ dtype, shape: stat.slice() });
    }
    return outs;
  },
  flops: (ctx) => mul(numel(ctx.shape(0)), 8),
};

/** GroupNormalization: num_groups must divide the channels when both are known. */
const groupNorm: OpRule = {
  since: 18,
  infer(ctx: InferContext) {
    const c = channels(ctx);
    const g = ctx.int("num_groups");
    if (g === undefined || g <= 0) ctx.error("num_groups attribute is required and positive");
    if (typeof c === "number" && c % g !== 0) ctx.error(`num_groups ${g} does not divide ${c} channels`);
    return [same(ctx)];
  },
  flops: (ctx) => mul(numel(ctx.shape(0)), 8),
};

/** LpNormalization: the axis must be inside the rank. */
const lpNorm: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    axis(ctx, ctx.int("axis", -1), x.length);
    return [same(ctx)];
  },
  flops: (ctx) => mul(numel(ctx.shape(0)), 3),
};

/** LRN: a window of `size` channels per element. */
const lrn: OpRule = {
  infer: (ctx) => [same(ctx)],
  flops: (ctx) => mul(numel(ctx.shape(0)), ctx.int("size", 1) * 2 + 3),
};

/**
 * Dropout: output like X; the optional mask has X's shape. Its dtype is X's before opset 10 and bool from
 * opset 10. Opset 12 moved ratio and training_mode to inputs, which do not change shapes.
 */
const dropout: OpRule = {
  infer(ctx: InferContext) {
    const y = same(ctx);
    const outs: TensorInfo[] = [y];
    if (ctx.outputCount > 1) outs.push({ dtype: ctx.opset >= 10 ? "bool" : ctx.dtype(0), shape: y.shape!.slice() });
    return outs;
  },
};

export const rules: OpFamily = {
  BatchNormalization: batchNorm,
  InstanceNormalization: normalize(5),
  LayerNormalization: layerNorm,
  GroupNormalization: groupNorm,
  LpNormalization: lpNorm,
  MeanVarianceNormalization: normalize(5),
  LRN: lrn,
  Dropout: dropout,
};
