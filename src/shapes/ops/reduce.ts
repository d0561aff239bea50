/**
 * Shape rules: reductions and ArgMax/ArgMin. Axes are an attribute until opset 18 (ReduceSum: until 13)
 * and an optional input after; with no axes every dim is reduced, unless noop_with_empty_axes is set.
 * Small known integer inputs (a Shape's output) are folded, so ReduceProd(Shape(x)) stays symbolic.
 */
import { add, max, min, mul, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, numel, strides } from "../util.js";
import { elementCount } from "../../graph/element-count.js";

type Fold = (xs: Dim[]) => Dim | undefined;

/** The axes to reduce (sorted, normalised), or "none" for the no-op case. */
function reducedAxes(ctx: InferContext, rank: number, axesAsInputSince: number): number[] | "none" {
  let raw: number[] | undefined;
  if (ctx.opset >= axesAsInputSince) {
    if (ctx.has(1)) {
      const v = ctx.numbers(1);
      if (!v) ctx.unknown("axes input is not a known constant");
      raw = v;
    }
    if ((raw === undefined || raw.length === 0) && ctx.int("noop_with_empty_axes", 0) !== 0) return "none";
  } else {
    raw = ctx.ints("axes");
  }
  if (raw === undefined || raw.length === 0) return Array.from({ length: rank }, (_, i) => i);
  const set = new Set(raw.map((a) => axis(ctx, a, rank)));
  return [...set].sort((a, b) => a - b);
}

/** Reduce known values over `axes` of a static shape. */
function foldValues(values: Dim[], shape: number[], axes: number[], f: Fold): Dim[] | undefined {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = strides(outShape);
  const inStrides = strides(shape);
  const groups: Dim[][] = Array.from({ length: elementCount(outShape) }, () => []);
  values.forEach((v, flat) => {
    let o = 0;
    for (let k = 0; k < shape.length; k++) {
      const coord = Math.floor(flat / inStrides[k]!) % shape[k]!;
      if (!axes.includes(k)) o += coord * outStrides[k]!;
    }
    groups[o]!.push(v);
  });
  const out: Dim[] = [];
  for (const g of groups) {
    if (g.length === 0) return undefined;
    const r = f(g);
    if (r === undefined) return undefined;
    out.push(r);
  }
  return out;
}

function reduction(axesAsInputSince: number, cost: number, fold?: Fold): OpRule[] {
  const rule = (since: number): OpRule => ({
    since,
    infer(ctx: InferContext) {
      const x = ctx.shape(0);
      const axes = reducedAxes(ctx, x.length, axesAsInputSince);
      if (axes === "none") return [{ dtype: ctx.dtype(0), shape: x.slice(), ...(ctx.value(0) ? { value: ctx.value(0)!.slice() } : {}) }];
      const keep = ctx.int("keepdims", 1) !== 0;
      const shape: Dim[] = [];
      x.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      const out: TensorInfo = { dtype: ctx.dtype(0), shape };
      const v = ctx.value(0);
      if (fold && v && x.every((d) => typeof d === "number")) {
        const folded = foldValues(v, x as number[], axes, fold);
        if (folded) out.value = folded;
      }
      return [out];
    },
    flops: (ctx) => mul(numel(ctx.shape(0)), cost),
  });
  // Two table entries so the opset where axes moved to an input is visible in coverage.
  return [rule(1), rule(axesAsInputSince)];
}

const onNumbers = (f: (xs: number[]) => number): Fold => (xs) =>
  xs.every((x) => typeof x === "number") ? f(xs as number[]) : undefined;

const sum: Fold = (xs) => xs.reduce((a, b) => add(a, b));
const prod: Fold = (xs) => xs.reduce((a, b) => mul(a, b));

/** ArgMax/ArgMin: int64 indices along one axis. */
const argReduce: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const a = axis(ctx, ctx.int("axis", 0), x.length);
    const keep = ctx.int("keepdims", 1) !== 0;
    const shape = keep ? x.map((d, i) => (i === a ? 1 : d)) : x.filter((_, i) => i !== a);
    return [{ dtype: "int64", shape }];
  },
  flops: (ctx) => numel(ctx.shape(0)),
};

export const rules: OpFamily = {
  ReduceSum: reduction(13, 1, sum),
  ReduceMean: reduction(18, 1, onNumbers((xs) => xs.reduce((a, b) => a + b, 0) / xs.length)),
  ReduceMax: reduction(18, 1, (xs) => xs.reduce((a, b) => max(a, b))),
  ReduceMin: reduction(18, 1, (xs) => xs.reduce((a, b) => min(a, b))),
  ReduceProd: reduction(18, 1, prod),
  ReduceL1: reduction(18, 2, onNumbers((xs) => xs.reduce((a, b) => a + Math.abs(b), 0))),
  ReduceL2: reduction(18, 2, onNumbers((xs) => Math.sqrt(xs.reduce((a, b) => a + b * b, 0)))),
  ReduceLogSum: reduction(18, 2),
  ReduceLogSumExp: reduction(18, 3),
  ReduceSumSquare: reduction(18, 2, onNumbers((xs) => xs.reduce((a, b) => a + b * b, 0))),
  ArgMax: argReduce,
  ArgMin: argReduce,
};
