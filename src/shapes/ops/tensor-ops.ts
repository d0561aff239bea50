/**
 * Shape rules: ops that index, pad, scatter or select data (Gather*, Pad, Scatter*, TopK, OneHot...), and the
 * data-dependent ones (NonZero, Unique, Compress, NonMaxSuppression), whose output sizes are fresh symbols
 * with an upper bound, and a warning.
 */
import { add, dimToString, min, mul, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, knownNumel, movesData, needValues, numel, same, scalarValue, staticValues, strides, unravel } from "../util.js";
import { passValue, withValue } from "./shape-ops.js";
import { elementCount } from "../../graph/element-count.js";

const Gather: OpRule = {
  infer(ctx) {
    const data = ctx.shape(0);
    const idx = ctx.shape(1);
    const a = axis(ctx, ctx.int("axis", 0), data.length);
    const shape = [...data.slice(0, a), ...idx, ...data.slice(a + 1)];
    const out: TensorInfo = { dtype: ctx.dtype(0), shape };
    const sv = passValue(ctx, 0) && staticValues(ctx, 0);
    const indices = ctx.numbers(1);
    const n = knownNumel(shape);
    if (sv && indices && n !== undefined && n <= 4096) {
      // Gather along axis a: out[outer, i..., inner] = data[outer, indices[i...], inner].
      const d = sv.s[a]!;
      const inner = elementCount(sv.s.slice(a + 1));
      const outer = elementCount(sv.s.slice(0, a));
      const value: Dim[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of indices) {
          const j = raw < 0 ? raw + d : raw;
          if (j < 0 || j >= d) ctx.error(`index ${raw} out of range for dim ${d}`);
          for (let k = 0; k < inner; k++) value.push(sv.v[(o * d + j) * inner + k]!);
        }
      }
      out.value = value;
    }
    return [out];
  },
};

const GatherElements: OpRule = {
  infer(ctx) {
    const data = ctx.shape(0);
    const idx = ctx.shape(1);
    if (idx.length !== data.length) ctx.error(`indices of rank ${idx.length} for data of rank ${data.length}`);
    axis(ctx, ctx.int("axis", 0), data.length);
    return [{ dtype: ctx.dtype(0), shape: idx.slice() }];
  },
};

const GatherND: OpRule = {
  infer(ctx) {
    const data = ctx.shape(0);
    const idx = ctx.shape(1);
    const b = ctx.opset >= 12 ? ctx.int("batch_dims", 0) : 0;
    const last = idx[idx.length - 1] ?? ctx.error("indices must have rank >= 1");
    const m = typeof last === "number" ? last : ctx.unknown(`the index tuple length (last dim of indices) is symbolic: ${dimToString(last)}`);
    if (b + m > data.length) ctx.error(`batch_dims ${b} + index length ${m} exceed data rank ${data.length}`);
    const shape = [...data.slice(0, b), ...idx.slice(b, -1), ...data.slice(b + m)];
    return [{ dtype: ctx.dtype(0), shape }];
  },
};

/** Pads: an attribute before opset 11 (`paddings` at opset 1), an input from 11, with optional axes from 18. */
const Pad: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    let pads: Dim[];
    let axes: number[] = s.map((_, k) => k);
    if (ctx.opset < 11) {
      pads = (ctx.opset < 2 ? ctx.ints("paddings") : ctx.ints("pads")) ?? ctx.error("no pads attribute");
    } else {
      pads = needValues(ctx, 1, "pads");
      if (ctx.opset >= 18 && ctx.has(3)) {
        const given = ctx.numbers(3) ?? ctx.unknown("axes (input 3) are not known");
        axes = given.map((a) => axis(ctx, a, s.length));
      }
    }
    if (pads.length !== 2 * axes.length) ctx.error(`${pads.length} pads for ${axes.length} axes`);
    const shape = s.slice();
    axes.forEach((a, k) => {
      shape[a] = add(add(s[a]!, pads[k]!), pads[k + axes.length]!);
    });
    return [{ dtype: ctx.dtype(0), shape }];
  },
};

const sameAsData: OpRule = { infer: (ctx) => [same(ctx)] };

const OneHot: OpRule = {
  infer(ctx) {
    const idx = ctx.shape(0);
    const depthValue = scalarValue(ctx, 1) ?? ctx.unknown("depth (input 1) is not known");
    // Depth may be given as a float; the op uses its integer part.
    const depth = typeof depthValue === "number" ? Math.trunc(depthValue) : depthValue;
    const rank = idx.length + 1;
    const a = axis(ctx, ctx.int("axis", -1), rank);
    const shape = [...idx.slice(0, a), depth, ...idx.slice(a)];
    return [{ dtype: ctx.dtype(2), shape }];
  },
};

const Compress: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const a = ctx.int("axis");
    const cond = ctx.numbers(1);
    const ax = a === undefined ? undefined : axis(ctx, a, s.length);
    const extent = ax === undefined ? numel(s) : s[ax]!;
    let kept: Dim;
    if (cond) {
      // Entries past the selected axis's length are ignored.
      const limit = typeof extent === "number" ? Math.min(extent, cond.length) : cond.length;
      kept = cond.slice(0, limit).filter((c) => c !== 0).length;
    } else {
      const bound = typeof extent === "number" ? extent : min(extent, ctx.shape(1)[0] ?? extent);
      kept = ctx.fresh("compress", bound);
      ctx.warn(`kept count depends on the condition's values: ${dimToString(kept)} <= ${dimToString(bound)}`);
    }
    const shape = ax === undefined ? [kept] : s.map((d, k) => (k === ax ? kept : d));
    return [{ dtype: ctx.dtype(0), shape }];
  },
};

const CenterCropPad: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const target = needValues(ctx, 1, "the target shape");
    const axes = (ctx.ints("axes") ?? s.map((_, k) => k)).map((a) => axis(ctx, a, s.length));
    if (target.length !== axes.length) ctx.error(`${target.length} target dims for ${axes.length} axes`);
    const shape = s.slice();
    axes.forEach((a, k) => (shape[a] = target[k]!));
    return [{ dtype: ctx.dtype(0), shape }];
  },
};

const CumSum: OpRule = {
  /** One addition per element. */
  flops: (ctx) => numel(ctx.shape(0)),
  infer(ctx) {
    const out = same(ctx);
    const sv = passValue(ctx, 0) && staticValues(ctx, 0);
    const a = ctx.numbers(1)?.[0];
    if (!sv || a === undefined) return [out];
    // Small integer cumulative sums (position ids) are folded: out[i] = sum of x along the axis up to i.
    const ax = axis(ctx, a, sv.s.length);
    const exclusive = ctx.int("exclusive", 0) === 1;
    const reverse = ctx.int("reverse", 0) === 1;
    const str = strides(sv.s);
    const value: Dim[] = new Array<Dim>(sv.v.length).fill(0);
    for (let flat = 0; flat < sv.v.length; flat++) {
      const c = unravel(flat, sv.s, str);
      const i = c[ax]!;
      let acc: Dim = 0;
      for (let j = 0; j < sv.s[ax]!; j++) {
        const take = reverse ? (exclusive ? j > i : j >= i) : exclusive ? j < i : j <= i;
        if (take) acc = add(acc, sv.v[flat + (j - i) * str[ax]!]!);
      }
      value[flat] = acc;
    }
    return [withValue(out, value)];
  },
};

const TopK: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const a = axis(ctx, ctx.int("axis", -1), s.length);
    let k: Dim;
    const d = s[a]!;
    if (ctx.opset < 10) k = ctx.int("k") ?? ctx.error("no 'k' attribute");
    else {
      const given = scalarValue(ctx, 1);
      if (given !== undefined) k = given;
      else {
        k = ctx.fresh("topk", d);
        ctx.warn(`k is computed at run time: ${dimToString(k)} <= ${dimToString(d)}`);
      }
    }
    if (typeof k === "number" && typeof d === "number" && k > d) ctx.error(`k = ${k} exceeds dim ${d}`);
    const shape = s.map((x, j) => (j === a ? k : x));
    return [
      { dtype: ctx.dtype(0), shape },
      { dtype: "int64", shape: shape.slice() },
    ];
  },
};

const NonZero: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const v = ctx.numbers(0);
    let count: Dim;
    if (v && v.length === knownNumel(s)) count = v.filter((x) => x !== 0).length;
    else {
      const bound = numel(s);
      count = ctx.fresh("nonzero", bound);
      ctx.warn(`count of non-zero elements depends on the values: ${dimToString(count)} <= ${dimToString(bound)}`);
    }
    return [{ dtype: "int64", shape: [s.length, count] }];
  },
};

const Unique: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const a = ctx.int("axis");
    const ax = a === undefined ? undefined : axis(ctx, a, s.length);
    const extent = ax === undefined ? numel(s) : s[ax]!;
    let u: Dim;
    const v = ax === undefined ? ctx.numbers(0) : undefined;
    if (v && v.length === knownNumel(s)) u = new Set(v).size;
    else {
      u = ctx.fresh("unique", extent);
      ctx.warn(`number of unique ${ax === undefined ? "elements" : "slices"} depends on the values: ${dimToString(u)} <= ${dimToString(extent)}`);
    }
    const y = ax === undefined ? [u] : s.map((d, k) => (k === ax ? u : d));
    return [
      { dtype: ctx.dtype(0), shape: y },
      { dtype: "int64", shape: [u] },
      { dtype: "int64", shape: [extent] },
      { dtype: "int64", shape: [u] },
    ];
  },
};

const NonMaxSuppression: OpRule = {
  infer(ctx) {
    const boxes = ctx.shape(0);
    const scores = ctx.shape(1);
    if (boxes.length !== 3 || scores.length !== 3) ctx.error("boxes and scores must have rank 3");
    const [batches, spatial] = boxes as [Dim, Dim, Dim];
    const classes = scores[1]!;
    // Without max_output_boxes_per_class the op selects nothing (the default is 0).
    const perClassValue = ctx.has(2) ? scalarValue(ctx, 2) : 0;
    const perClass = perClassValue === undefined ? spatial : min(perClassValue, spatial);
    const bound = mul(mul(batches, classes), perClass);
    if (bound === 0) return [{ dtype: "int64", shape: [0, 3] }];
    const selected = ctx.fresh("nms", bound);
    ctx.warn(`selected boxes depend on the scores: ${dimToString(selected)} <= ${dimToString(bound)}`);
    return [{ dtype: "int64", shape: [selected, 3] }];
  },
};

/** Indexing, padding, scattering and selecting are not arithmetic: 0 FLOPs (TopK and NMS compare, and stay unknown). */
export const rules: OpFamily = {
  Gather: movesData(Gather),
  GatherElements: movesData(GatherElements),
  GatherND: movesData(GatherND),
  Pad: movesData(Pad),
  Trilu: movesData(sameAsData),
  OneHot: movesData(OneHot),
  Compress: movesData(Compress),
  CenterCropPad: movesData(CenterCropPad),
  ScatterND: movesData(sameAsData),
  ScatterElements: movesData(sameAsData),
  Scatter: movesData(sameAsData),
  ReverseSequence: movesData(sameAsData),
  CumSum,
  TopK,
  NonZero: movesData(NonZero),
  Unique,
  NonMaxSuppression,
};
