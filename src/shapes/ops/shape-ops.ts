/**
 * Shape rules: ops that view or move data without computing on it (Shape, Reshape, Slice, Concat, Split,
 * Transpose, Expand, Tile, Cast...). Each also carries its input's values when they are known, symbolically:
 * exporters compute Reshape and Expand targets from Shape(x) through exactly these ops.
 */
import { dtypeFromCode, type DType } from "../../graph/dtype.js";
import { add, compare, dimToString, equal, floorDiv, isSym, lowerBound, mul, product, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import {
  SLICE_TO_END,
  axis,
  broadcast,
  isIntegerType,
  isStatic,
  movesData,
  needNumbers,
  needValues,
  numel,
  staticValues,
  stepsIn,
  strides,
  sumDims,
  unravel,
} from "../util.js";
import { elementCount } from "../../graph/element-count.js";

/**
 * Input i's values for an op that passes them through. Integer tensors are read (they are shape
 * sub-graphs); float values pass only when already known, so a weight is never decoded just to be moved.
 */
export function passValue(ctx: InferContext, i: number): Dim[] | undefined {
  const t = ctx.inputs[i];
  if (!t) return undefined;
  return isIntegerType(t.dtype) ? ctx.value(i) : t.value;
}

export function withValue(info: TensorInfo, value: Dim[] | undefined): TensorInfo {
  if (value === undefined || !info.shape) return info;
  const n = numel(info.shape);
  if (typeof n !== "number" || n !== value.length) return info;
  return { ...info, value };
}

function clampIndex(a: number, r: number): number {
  const x = a < 0 ? a + r : a;
  return Math.min(Math.max(x, 0), r);
}

const Shape: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    let start = 0;
    let end = s.length;
    if (ctx.opset >= 15) {
      start = clampIndex(ctx.int("start", 0), s.length);
      const e = ctx.int("end");
      if (e !== undefined) end = clampIndex(e, s.length);
    }
    const value = s.slice(start, Math.max(start, end));
    return [{ dtype: "int64", shape: [value.length], value }];
  },
};

const Size: OpRule = {
  infer: (ctx) => [{ dtype: "int64", shape: [], value: [numel(ctx.shape(0))] }],
};

/** Reshape's output dims: 0 copies the input's dim (unless allowzero), -1 is what is left, symbolically. */
export function reshapeTarget(ctx: InferContext, inShape: readonly Dim[], target: readonly Dim[], allowzero: boolean): Dim[] {
  const out: Dim[] = [];
  let inferAt = -1;
  target.forEach((t, k) => {
    if (t === -1) {
      if (inferAt >= 0) ctx.error(`more than one -1 in the target shape [${target.map(dimToString).join(",")}]`);
      inferAt = k;
      out.push(1);
    } else if (t === 0 && !allowzero) {
      const d = inShape[k];
      if (d === undefined) ctx.error(`target dim ${k} is 0 (copy) but the input has rank ${inShape.length}`);
      out.push(d);
    } else if (typeof t === "number" && t < 0) {
      ctx.error(`invalid target dim ${t}`);
    } else out.push(t);
  });
  const total = numel(inShape);
  if (inferAt >= 0) {
    const known = product(out.filter((_, k) => k !== inferAt));
    if (known === 0) ctx.error(`can not infer -1 next to a zero dim`);
    const q = floorDiv(total, known);
    if (typeof q === "number" && typeof total === "number" && typeof known === "number" && q * known !== total) {
      ctx.error(`can not reshape ${total} elements to [${target.map(dimToString).join(",")}]`);
    }
    if (!equal(mul(q, known), total)) ctx.warn(`-1 in the target taken as floor(${dimToString(total)} / ${dimToString(known)})`);
    out[inferAt] = q;
  } else {
    const n = product(out);
    if (lowerBound(sub(n, total)) > 0 || lowerBound(sub(total, n)) > 0) {
      ctx.error(`can not reshape ${dimToString(total)} elements to [${target.map(dimToString).join(",")}]`);
    }
    if (!equal(n, total)) ctx.warn(`element counts not provably equal: ${dimToString(total)} reshaped to ${dimToString(n)}`);
  }
  return out;
}

const Reshape: OpRule = {
  infer(ctx) {
    const inShape = ctx.shape(0);
    const target = ctx.opset < 5 ? (ctx.ints("shape") ?? ctx.error("no 'shape' attribute")) : needValues(ctx, 1, "the target shape");
    const allowzero = ctx.opset >= 14 && ctx.int("allowzero", 0) === 1;
    const shape = reshapeTarget(ctx, inShape, target, allowzero);
    return [withValue({ dtype: ctx.dtype(0), shape }, passValue(ctx, 0))];
  },
};

const Flatten: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    let a = ctx.int("axis", 1);
    if (a < 0) a += s.length;
    if (a < 0 || a > s.length) ctx.error(`axis ${ctx.int("axis", 1)} out of range for rank ${s.length}`);
    const shape = [product(s.slice(0, a)), product(s.slice(a))];
    return [withValue({ dtype: ctx.dtype(0), shape }, passValue(ctx, 0))];
  },
};

/** Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13. */
function axesOf(ctx: InferContext): number[] | undefined {
  if (ctx.opset >= 13) return ctx.has(1) ? needNumbers(ctx, 1, "axes") : undefined;
  return ctx.ints("axes");
}

const Squeeze: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const axes = axesOf(ctx);
    let shape: Dim[];
    // No axes, or an empty list (as onnxruntime reads it), squeezes every dim of size 1.
    if (axes === undefined || axes.length === 0) {
      const symbolic = s.filter(isSym);
      if (symbolic.length) ctx.warn(`no axes: symbolic dims (${symbolic.map(dimToString).join(", ")}) assumed not to be 1`);
      shape = s.filter((d) => d !== 1);
    } else {
      const drop = new Set(axes.map((a) => axis(ctx, a, s.length)));
      for (const k of drop) {
        const d = s[k]!;
        if (typeof d === "number" && d !== 1) ctx.error(`can not squeeze axis ${k} of size ${d}`);
      }
      shape = s.filter((_, k) => !drop.has(k));
    }
    return [withValue({ dtype: ctx.dtype(0), shape }, passValue(ctx, 0))];
  },
};

const Unsqueeze: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const axes = axesOf(ctx) ?? ctx.error("no axes");
    const rank = s.length + axes.length;
    const ones = new Set(axes.map((a) => axis(ctx, a, rank)));
    if (ones.size !== axes.length) ctx.error(`repeated axes [${axes.join(",")}]`);
    const shape: Dim[] = [];
    let next = 0;
    for (let k = 0; k < rank; k++) shape.push(ones.has(k) ? 1 : s[next++]!);
    return [withValue({ dtype: ctx.dtype(0), shape }, passValue(ctx, 0))];
  },
};

const Transpose: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const perm = ctx.ints("perm") ?? s.map((_, k) => s.length - 1 - k);
    if (perm.length !== s.length || new Set(perm.map((p) => axis(ctx, p, s.length))).size !== s.length) {
      ctx.error(`perm [${perm.join(",")}] is not a permutation of rank ${s.length}`);
    }
    const axes = perm.map((p) => axis(ctx, p, s.length));
    const shape = axes.map((p) => s[p]!);
    const out: TensorInfo = { dtype: ctx.dtype(0), shape };
    const sv = passValue(ctx, 0) && staticValues(ctx, 0);
    if (sv) {
      const inStr = strides(sv.s);
      const outShape = axes.map((p) => sv.s[p]!);
      const outStr = strides(outShape);
      const n = sv.v.length;
      const value: Dim[] = new Array<Dim>(n);
      for (let flat = 0; flat < n; flat++) {
        const c = unravel(flat, outShape, outStr);
        let src = 0;
        c.forEach((x, k) => (src += x * inStr[axes[k]!]!));
        value[flat] = sv.v[src]!;
      }
      out.value = value;
    }
    return [out];
  },
};

const Concat: OpRule = {
  infer(ctx) {
    const present: number[] = [];
    for (let i = 0; i < ctx.inputs.length; i++) if (ctx.has(i)) present.push(i);
    if (present.length === 0) ctx.error("no inputs");
    const shapes = present.map((i) => ctx.shape(i));
    const rank = shapes[0]!.length;
    if (shapes.some((s) => s.length !== rank)) ctx.error(`inputs of different ranks: ${shapes.map((s) => s.length).join(", ")}`);
    const a = axis(ctx, ctx.int("axis", ctx.opset < 4 ? 1 : 0), rank);
    const shape: Dim[] = [];
    for (let k = 0; k < rank; k++) {
      if (k === a) {
        shape.push(sumDims(shapes.map((s) => s[k]!)));
        continue;
      }
      // Every input has the same dim here; a number known in any input is the better spelling.
      const dims = shapes.map((s) => s[k]!);
      const known = dims.find((d) => typeof d === "number");
      if (known !== undefined && dims.some((d) => typeof d === "number" && d !== known)) {
        ctx.error(`dim ${k} differs between inputs: ${dims.map(dimToString).join(", ")}`);
      }
      shape.push(known ?? dims[0]!);
    }
    const out: TensorInfo = { dtype: ctx.dtype(present[0]!), shape };
    const parts = present.map((i) => (passValue(ctx, i) ? staticValues(ctx, i) : undefined));
    if (parts.every((p) => p !== undefined)) {
      const outer = elementCount(parts[0]!.s.slice(0, a));
      const value: Dim[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = elementCount(p!.s.slice(a));
          for (let j = 0; j < chunk; j++) value.push(p!.v[o * chunk + j]!);
        }
      }
      out.value = value;
    }
    return [withValue(out, out.value)];
  },
};

/** Split sizes: an input from opset 13, an attribute from 2 to 12 (and either at opset 1). */
function splitSizes(ctx: InferContext): Dim[] | undefined {
  if (ctx.opset >= 13) return ctx.has(1) ? needValues(ctx, 1, "split") : undefined;
  const attr = ctx.ints("split");
  if (attr) return attr;
  if (ctx.opset < 2 && ctx.has(1)) return needValues(ctx, 1, "split");
  return undefined;
}

const Split: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const a = axis(ctx, ctx.int("axis", 0), s.length);
    const d = s[a]!;
    const n = ctx.outputCount;
    let sizes = splitSizes(ctx);
    if (!sizes) {
      const numOutputs = ctx.opset >= 18 ? ctx.int("num_outputs") : undefined;
      if (numOutputs !== undefined) {
        // Opset 18: chunks of ceil(d/n); the last one holds what is left.
        const chunk = stepsIn(d, numOutputs);
        sizes = Array.from({ length: n }, (_, k) => (k < numOutputs - 1 ? chunk : sub(d, mul(chunk, numOutputs - 1))));
      } else {
        const chunk = floorDiv(d, n);
        if (typeof d === "number" && d % n !== 0) ctx.error(`dim ${d} does not split evenly into ${n} outputs`);
        sizes = new Array<Dim>(n).fill(chunk);
      }
    }
    if (sizes.length !== n) ctx.error(`${sizes.length} split sizes for ${n} outputs`);
    const total = sumDims(sizes);
    if (typeof total === "number" && typeof d === "number" && total !== d) ctx.error(`split sizes sum to ${total}, dim is ${d}`);
    const dtype = ctx.dtype(0);
    const v = s.length === 1 ? passValue(ctx, 0) : undefined;
    let offset = 0;
    return sizes.map((size) => {
      const shape = s.slice();
      shape[a] = size;
      const info: TensorInfo = { dtype, shape };
      if (v && typeof size === "number") info.value = v.slice(offset, offset + size);
      offset += typeof size === "number" ? size : 0;
      return withValue(info, info.value);
    });
  },
};

/** Normalise a Slice index against dim d: negatives count from the end, the INT_MAX family means "past the end". */
function sliceIndex(x: Dim, d: Dim): Dim {
  // A symbolic index is usually a size from Shape (>= 0); -seq (x[-seq:]) counts from the end.
  if (typeof x !== "number") return compare(x, 0) === -1 ? add(d, x) : x;
  if (x >= SLICE_TO_END) return d;
  if (x <= -SLICE_TO_END) return -1;
  return x < 0 ? add(d, x) : x;
}

/**
 * Clamp an index into [lo, hi]. With symbols the clamp is decided when provable; otherwise the index is
 * taken as in range, as exporters do (slicing [0:seq] of a 512-row table gives seq), and the assumption is
 * reported.
 */
function clamp(ctx: InferContext, x: Dim, lo: Dim, hi: Dim): Dim {
  if (typeof x === "number" && typeof lo === "number" && typeof hi === "number") return Math.min(Math.max(x, lo), hi);
  if (lowerBound(sub(lo, x)) >= 0) return lo;
  if (lowerBound(sub(x, hi)) >= 0) return hi;
  const aboveLo = lowerBound(sub(x, lo)) >= 0;
  const belowHi = lowerBound(sub(hi, x)) >= 0;
  if (!aboveLo) ctx.warn(`assumed ${dimToString(x)} >= ${dimToString(lo)}`);
  if (!belowHi) ctx.warn(`assumed ${dimToString(x)} <= ${dimToString(hi)}`);
  return x;
}

/** One axis of a Slice: the first index taken and the count, for dim d. */
export function sliceAxis(ctx: InferContext, d: Dim, start: Dim, end: Dim, step: number): { first: Dim; len: Dim } {
  if (step === 0) ctx.error("slice step is 0");
  const s = sliceIndex(start, d);
  const e = sliceIndex(end, d);
  if (step > 0) {
    const first = clamp(ctx, s, 0, d);
    const last = clamp(ctx, e, 0, d);
    const len = stepsIn(sub(last, first), step);
    return { first, len: typeof len === "number" ? Math.max(0, len) : len };
  }
  const first = clamp(ctx, s, 0, sub(d, 1));
  const last = clamp(ctx, e, -1, sub(d, 1));
  const len = stepsIn(sub(first, last), -step);
  return { first, len: typeof len === "number" ? Math.max(0, len) : len };
}

/**
 * Slice with starts or ends computed at run time (a loop counter, a data-dependent length): each sliced
 * axis gets a fresh symbol bounded by what a slice of it can hold, ceil(dim / |step|), and a warning.
 */
function dataDependentSlice(ctx: InferContext, s: readonly Dim[], axes: number[] | undefined, steps: number[] | undefined): TensorInfo {
  const n = ctx.input(1).shape?.[0];
  if (axes === undefined && typeof n !== "number") ctx.unknown("starts are computed at run time and the sliced axes are not known");
  const ax = (axes ?? Array.from({ length: n as number }, (_, k) => k)).map((a) => axis(ctx, a, s.length));
  const shape = s.slice();
  ax.forEach((a, k) => {
    const step = steps?.[k] ?? 1;
    if (step === 0) ctx.error("slice step is 0");
    const bound = stepsIn(s[a]!, Math.abs(step));
    shape[a] = ctx.fresh("slice", bound);
    ctx.warn(`starts/ends are computed at run time: axis ${a} has ${dimToString(shape[a]!)} <= ${dimToString(bound)} elements`);
  });
  return { dtype: ctx.dtype(0), shape };
}

/** Slice from opset 10 reads starts/ends/axes/steps from inputs; before, from attributes. */
const Slice: OpRule = { infer: (ctx) => slice(ctx, ctx.opset >= 10) };
/** The experimental DynamicSlice (opsets 1-9) is Slice-10 without steps. */
const DynamicSlice: OpRule = { infer: (ctx) => slice(ctx, true) };

function slice(ctx: InferContext, fromInputs: boolean): TensorInfo[] {
  const s = ctx.shape(0);
  let starts: Dim[];
  let ends: Dim[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (!fromInputs) {
    starts = ctx.ints("starts") ?? ctx.error("no 'starts' attribute");
    ends = ctx.ints("ends") ?? ctx.error("no 'ends' attribute");
    axes = ctx.ints("axes");
  } else {
    axes = ctx.has(3) ? needNumbers(ctx, 3, "axes") : undefined;
    steps = ctx.has(4) ? needNumbers(ctx, 4, "steps") : undefined;
    const st = ctx.value(1);
    const en = ctx.value(2);
    if (!st || !en) return [dataDependentSlice(ctx, s, axes, steps)];
    starts = st;
    ends = en;
  }
  if (starts.length !== ends.length) ctx.error(`${starts.length} starts but ${ends.length} ends`);
  const ax = (axes ?? starts.map((_, k) => k)).map((a) => axis(ctx, a, s.length));
  if (ax.length !== starts.length || (steps && steps.length !== starts.length)) ctx.error("starts, ends, axes and steps differ in length");
  const shape = s.slice();
  const first: Dim[] = s.map(() => 0);
  const step: number[] = s.map(() => 1);
  ax.forEach((a, k) => {
    const r = sliceAxis(ctx, s[a]!, starts[k]!, ends[k]!, steps?.[k] ?? 1);
    shape[a] = r.len;
    first[a] = r.first;
    step[a] = steps?.[k] ?? 1;
  });
  const out: TensorInfo = { dtype: ctx.dtype(0), shape };
  const sv = passValue(ctx, 0) && staticValues(ctx, 0);
  if (sv && isStatic(shape) && isStatic(first)) {
    const inStr = strides(sv.s);
    const outStr = strides(shape);
    const n = elementCount(shape);
    const value: Dim[] = [];
    for (let flat = 0; flat < n; flat++) {
      const c = unravel(flat, shape, outStr);
      let src = 0;
      c.forEach((x, k) => (src += (first[k]! + x * step[k]!) * inStr[k]!));
      value.push(sv.v[src]!);
    }
    out.value = value;
  }
  return [out];
}

/** Broadcast a static tensor's values to a static output shape (Expand). */
function broadcastTo(v: readonly Dim[], s: readonly number[], outShape: readonly number[]): Dim[] {
  const outStr = strides(outShape);
  const n = elementCount(outShape);
  const inStr = strides(s);
  const out: Dim[] = [];
  for (let flat = 0; flat < n; flat++) {
    const c = unravel(flat, outShape, outStr);
    let src = 0;
    for (let k = 0; k < s.length; k++) {
      const ok = k + outShape.length - s.length;
      if (s[k] !== 1) src += c[ok]! * inStr[k]!;
    }
    out.push(v[src]!);
  }
  return out;
}

const Expand: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    const target = needValues(ctx, 1, "the target shape");
    const shape = broadcast(ctx, [s, target]);
    const out: TensorInfo = { dtype: ctx.dtype(0), shape };
    const sv = passValue(ctx, 0) && staticValues(ctx, 0);
    const n = numel(shape);
    if (sv && isStatic(shape) && typeof n === "number" && n <= 4096) out.value = broadcastTo(sv.v, sv.s, shape);
    return [out];
  },
};

const Tile: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    let repeats: Dim[];
    if (ctx.opset < 6) {
      // Opset 1: `tiles` repeats along the single `axis` input.
      const tiles = needValues(ctx, 1, "tiles")[0] ?? ctx.error("empty tiles");
      const a = axis(ctx, needNumbers(ctx, 2, "axis")[0] ?? 0, s.length);
      repeats = s.map((_, k) => (k === a ? tiles : 1));
    } else repeats = needValues(ctx, 1, "repeats");
    if (repeats.length !== s.length) ctx.error(`${repeats.length} repeats for rank ${s.length}`);
    const shape = s.map((d, k) => mul(d, repeats[k]!));
    const out: TensorInfo = { dtype: ctx.dtype(0), shape };
    const sv = passValue(ctx, 0) && staticValues(ctx, 0);
    const n = numel(shape);
    if (sv && isStatic(shape) && typeof n === "number" && n <= 4096) {
      const inStr = strides(sv.s);
      const outStr = strides(shape);
      const value: Dim[] = [];
      for (let flat = 0; flat < n; flat++) {
        const c = unravel(flat, shape, outStr);
        let src = 0;
        c.forEach((x, k) => (src += (x % sv.s[k]!) * inStr[k]!));
        value.push(sv.v[src]!);
      }
      out.value = value;
    }
    return [out];
  },
};

function blockSize(ctx: InferContext): number {
  const b = ctx.int("blocksize") ?? ctx.error("no 'blocksize' attribute");
  if (b <= 0) ctx.error(`blocksize ${b}`);
  return b;
}

const DepthToSpace: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length !== 4) ctx.error(`input of rank ${s.length}, want 4`);
    const b = blockSize(ctx);
    const [n, c, h, w] = s as [Dim, Dim, Dim, Dim];
    if (typeof c === "number" && c % (b * b) !== 0) ctx.error(`channels ${c} not divisible by blocksize² ${b * b}`);
    return [{ dtype: ctx.dtype(0), shape: [n, floorDiv(c, b * b), mul(h, b), mul(w, b)] }];
  },
};

const SpaceToDepth: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length !== 4) ctx.error(`input of rank ${s.length}, want 4`);
    const b = blockSize(ctx);
    const [n, c, h, w] = s as [Dim, Dim, Dim, Dim];
    return [{ dtype: ctx.dtype(0), shape: [n, mul(c, b * b), floorDiv(h, b), floorDiv(w, b)] }];
  },
};

const Identity: OpRule = {
  infer(ctx) {
    const t = ctx.input(0);
    const { initializer: _weight, ...rest } = t;
    const value = passValue(ctx, 0);
    return [value !== undefined ? { ...rest, value } : rest];
  },
};

/** Cast's `to`: a TensorProto.DataType code, or (opset 1) its name. */
const CAST_NAMES: Record<string, DType> = {
  FLOAT: "float32", FLOAT16: "float16", DOUBLE: "float64", BFLOAT16: "bfloat16", INT8: "int8", INT16: "int16",
  INT32: "int32", INT64: "int64", UINT8: "uint8", UINT16: "uint16", UINT32: "uint32", UINT64: "uint64",
  BOOL: "bool", STRING: "string",
};

function castTarget(ctx: InferContext): DType {
  const name = ctx.string("to");
  if (name !== undefined) return CAST_NAMES[name.toUpperCase()] ?? ctx.error(`unknown type '${name}'`);
  const code = ctx.int("to") ?? ctx.error("no 'to' attribute");
  return dtypeFromCode(code) ?? ctx.error(`unknown type code ${code}`);
}

/** Values after a cast: integers truncate, bools become 0/1; symbols (sizes) survive numeric casts. */
export function castValues(v: Dim[] | undefined, to: DType): Dim[] | undefined {
  if (!v || to === "string") return undefined;
  const out: Dim[] = [];
  for (const x of v) {
    if (typeof x === "number") out.push(to === "bool" ? +(x !== 0) : isIntegerType(to) ? Math.trunc(x) : x);
    else if (to === "bool") {
      if (lowerBound(x) < 1) return undefined;
      out.push(1);
    } else out.push(x);
  }
  return out;
}

function castRule(target: (ctx: InferContext) => DType): OpRule {
  return {
    infer(ctx) {
      const to = target(ctx);
      const s = ctx.shape(0);
      return [withValue({ dtype: to, shape: s.slice() }, castValues(passValue(ctx, 0), to))];
    },
  };
}

const RULES: Record<string, OpRule> = {
  Shape,
  Size,
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Transpose,
  Concat,
  Split,
  Slice,
  DynamicSlice,
  Expand,
  Tile,
  DepthToSpace,
  SpaceToDepth,
  Identity,
  Cast: castRule(castTarget),
  CastLike: castRule((ctx) => ctx.dtype(1)),
};

/** Every op here views, moves or converts data: 0 FLOPs each. */
export const rules: OpFamily = Object.fromEntries(Object.entries(RULES).map(([op, r]) => [op, movesData(r)]));
