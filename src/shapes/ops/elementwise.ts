/** Shape rules: elementwise ops. Unary ops keep shape and dtype; binary and variadic ops broadcast. */
import type { DType } from "../../graph/dtype.js";
import { add, floorDiv, max, min, mod, mul, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { broadcast, compareFold, knownNumel, numel, same, strides } from "../util.js";

/** Same shape and dtype as input 0; one flop per element. */
const unary: OpRule = {
  infer: (ctx) => [same(ctx)],
  flops: (ctx) => numel(ctx.shape(0)),
};

/** Same shape, fixed output dtype. */
function unaryTo(dtype: DType): OpRule {
  return { infer: (ctx) => [{ dtype, shape: ctx.shape(0).slice() }], flops: (ctx) => numel(ctx.shape(0)) };
}

/** Apply f elementwise over broadcast values when every input's values are known. */
export function broadcastValues(
  ctx: InferContext,
  outShape: Dim[],
  f: (xs: Dim[]) => Dim | undefined,
): Dim[] | undefined {
  const n = knownNumel(outShape);
  if (n === undefined || n > 4096) return undefined;
  const ins: { v: Dim[]; s: number[] }[] = [];
  for (let i = 0; i < ctx.inputs.length; i++) {
    if (!ctx.has(i)) continue;
    const v = ctx.value(i);
    const s = ctx.input(i).shape;
    if (!v || !s || s.some((d) => typeof d !== "number")) return undefined;
    ins.push({ v, s: s as number[] });
  }
  const oshape = outShape as number[];
  const ostr = strides(oshape);
  const out: Dim[] = [];
  for (let flat = 0; flat < n; flat++) {
    const xs: Dim[] = [];
    for (const { v, s } of ins) {
      let idx = 0;
      let stride = 1;
      for (let k = s.length - 1; k >= 0; k--) {
        const ok = k + oshape.length - s.length;
        const coord = Math.floor(flat / ostr[ok]!) % oshape[ok]!;
        if (s[k]! !== 1) idx += coord * stride;
        stride *= s[k]!;
      }
      const x = v[idx];
      if (x === undefined) return undefined;
      xs.push(x);
    }
    const y = f(xs);
    if (y === undefined) return undefined;
    out.push(y);
  }
  return out;
}

function isInt(t: DType | undefined): boolean {
  return t !== undefined && /^u?int|bool/.test(t);
}

/** Broadcasting binary/variadic op; `dtype` picks the output type from input 0's; `value` folds known values. */
function broadcasting(
  dtype: (ctx: InferContext) => DType | undefined,
  value?: (xs: Dim[], ctx: InferContext) => Dim | undefined,
): OpRule {
  return {
    infer(ctx) {
      const shapes: Dim[][] = [];
      for (let i = 0; i < ctx.inputs.length; i++) if (ctx.has(i)) shapes.push(ctx.shape(i));
      const legacy = legacyBroadcast(ctx, shapes);
      const shape = legacy?.shape ?? broadcast(ctx, shapes);
      const out: TensorInfo = { dtype: dtype(ctx), shape };
      if (value && !legacy?.offset) {
        const v = broadcastValues(ctx, shape, (xs) => integral(value(xs, ctx)));
        if (v) out.value = v;
      }
      return [out];
    },
    flops: (_ctx, outs) => (outs[0]?.shape ? numel(outs[0].shape) : 0),
  };
}

/**
 * Before opset 7, binary ops broadcast only B onto A, and only with broadcast=1; `axis` says where B's dims
 * start in A (default: aligned to A's end, as numpy would). The output is always A's shape. `offset` is
 * true when B is not end-aligned, so numpy-style value folding would pair the wrong elements.
 */
function legacyBroadcast(ctx: InferContext, shapes: Dim[][]): { shape: Dim[]; offset: boolean } | undefined {
  if (ctx.opset >= 7 || shapes.length !== 2 || ctx.int("broadcast", 0) === 0) return undefined;
  const [a, b] = shapes as [Dim[], Dim[]];
  const start = ctx.int("axis", a.length - b.length);
  const at = start < 0 ? start + a.length : start;
  if (at < 0 || at + b.length > a.length) ctx.error(`legacy broadcast: B [${b.map(String)}] at axis ${start} does not fit A [${a.map(String)}]`);
  b.forEach((d, i) => {
    const ad = a[at + i]!;
    if (typeof d === "number" && typeof ad === "number" && d !== 1 && d !== ad) {
      ctx.error(`legacy broadcast: B dim ${i} is ${d}, A's dim ${at + i} is ${ad}`);
    }
  });
  return { shape: a.slice(), offset: at !== a.length - b.length };
}

/**
 * Symbolic values are integer polynomials; a float factor (Mul by 0.5 on a Cast shape) would make a
 * fractional coefficient that no later op can interpret, so such a value is dropped (left unknown).
 */
function integral(d: Dim | undefined): Dim | undefined {
  if (d === undefined || typeof d === "number") return d;
  for (const c of d.terms.values()) if (!Number.isInteger(c)) return undefined;
  return d;
}

const keep = (ctx: InferContext) => ctx.dtype(0);
const bool = () => "bool" as const;

/** Numeric fold over plain numbers only. */
function num(f: (...xs: number[]) => number): (xs: Dim[]) => Dim | undefined {
  return (xs) => (xs.every((x) => typeof x === "number") ? f(...(xs as number[])) : undefined);
}

function divide(xs: Dim[], ctx: InferContext): Dim | undefined {
  const [a, b] = xs as [Dim, Dim];
  if (isInt(ctx.input(0).dtype)) {
    if (typeof a === "number" && typeof b === "number") return b === 0 ? undefined : Math.trunc(a / b);
    return floorDiv(a, b);
  }
  return typeof a === "number" && typeof b === "number" ? a / b : undefined;
}

function modulo(xs: Dim[], ctx: InferContext): Dim | undefined {
  const [a, b] = xs as [Dim, Dim];
  if (typeof a === "number" && typeof b === "number") {
    if (b === 0) return undefined;
    return ctx.int("fmod", 0) ? a % b : ((a % b) + b) % b;
  }
  return mod(a, b);
}

const UNARY_OPS = [
  "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sqrt", "Exp", "Log", "Sin", "Cos", "Tan", "Asin",
  "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "Sign", "BitwiseNot",
] as const;

/** A unary op that also maps known values (integers in shape sub-graphs); `f` undefined: not foldable. */
function unaryFold(f: (x: Dim) => Dim | undefined): OpRule {
  return {
    infer: (ctx) => [{ ...same(ctx), ...valueMap(ctx, f) }],
    flops: (ctx) => numel(ctx.shape(0)),
  };
}

const onNumber = (f: (x: number) => number) => (x: Dim) => (typeof x === "number" ? f(x) : undefined);

/**
 * Rounding ops: a symbolic value is an integer polynomial (folding never makes fractional coefficients),
 * so it rounds to itself. This keeps Floor(Mul(Cast(Shape), 2.0)) symbolic in exported upsample sizes.
 */
const rounding = (f: (x: number) => number) => (x: Dim) => (typeof x === "number" ? f(x) : x);

/** Round half to even, as ONNX Round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Clip bounds: attributes before opset 11, optional inputs 1 and 2 after. */
function clipBounds(ctx: InferContext): { lo: number | undefined; hi: number | undefined } | undefined {
  if (ctx.opset < 11) {
    const lo = ctx.float("min", -Infinity);
    const hi = ctx.float("max", Infinity);
    return { lo, hi };
  }
  const lo = ctx.has(1) ? ctx.numbers(1) : [-Infinity];
  const hi = ctx.has(2) ? ctx.numbers(2) : [Infinity];
  if (!lo || !hi) return undefined;
  return { lo: lo[0], hi: hi[0] };
}

const clip: OpRule = {
  infer(ctx) {
    const b = clipBounds(ctx);
    const f = b ? (x: Dim) => (typeof x === "number" ? Math.min(Math.max(x, b.lo ?? -Infinity), b.hi ?? Infinity) : undefined) : () => undefined;
    return [{ ...same(ctx), ...valueMap(ctx, f) }];
  },
  flops: (ctx) => numel(ctx.shape(0)),
};

function bitShift(xs: Dim[], ctx: InferContext): Dim | undefined {
  const [a, b] = xs;
  if (typeof a !== "number" || typeof b !== "number" || b < 0) return undefined;
  // Values are unsigned here; shift as integers without 32-bit wraparound.
  return ctx.string("direction", "") === "LEFT" ? a * 2 ** b : Math.floor(a / 2 ** b);
}

export const rules: OpFamily = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unary])),
  Neg: unaryFold((x) => mul(x, -1)),
  Abs: unaryFold((x) => (typeof x === "number" ? Math.abs(x) : x)),
  Floor: unaryFold(rounding(Math.floor)),
  Ceil: unaryFold(rounding(Math.ceil)),
  Round: unaryFold(rounding(roundHalfEven)),
  Sqrt: unaryFold(onNumber(Math.sqrt)),
  Sign: unaryFold(onNumber(Math.sign)),
  Reciprocal: unaryFold(onNumber((x) => 1 / x)),
  // Known booleans fold (an If condition computed as Not(Equal(Size(Shape(x)), 2)) in exported RNNs).
  Not: { infer: (ctx) => [{ dtype: "bool", shape: ctx.shape(0).slice(), ...valueMap(ctx, onNumber((x) => +(x === 0))) }], flops: (ctx) => numel(ctx.shape(0)) },
  IsNaN: unaryTo("bool"),
  IsInf: unaryTo("bool"),
  Add: broadcasting(keep, (xs) => add(xs[0]!, xs[1]!)),
  Sub: broadcasting(keep, (xs) => sub(xs[0]!, xs[1]!)),
  Mul: broadcasting(keep, (xs) => mul(xs[0]!, xs[1]!)),
  Div: broadcasting(keep, divide),
  Mod: broadcasting(keep, modulo),
  Pow: broadcasting(keep, num((a, b) => a ** b)),
  Max: broadcasting(keep, (xs) => xs.reduce((a, b) => max(a, b))),
  Min: broadcasting(keep, (xs) => xs.reduce((a, b) => min(a, b))),
  Sum: broadcasting(keep, (xs) => xs.reduce((a, b) => add(a, b))),
  Mean: broadcasting(keep, num((...xs) => xs.reduce((a, b) => a + b, 0) / xs.length)),
  Equal: broadcasting(bool, compareFold((c) => c === 0)),
  Less: broadcasting(bool, compareFold((c) => c < 0)),
  LessOrEqual: broadcasting(bool, compareFold((c) => c <= 0)),
  Greater: broadcasting(bool, compareFold((c) => c > 0)),
  GreaterOrEqual: broadcasting(bool, compareFold((c) => c >= 0)),
  And: broadcasting(bool, num((a, b) => +(a !== 0 && b !== 0))),
  Or: broadcasting(bool, num((a, b) => +(a !== 0 || b !== 0))),
  Xor: broadcasting(bool, num((a, b) => +((a !== 0) !== (b !== 0)))),
  BitwiseAnd: broadcasting(keep, num((a, b) => a & b)),
  BitwiseOr: broadcasting(keep, num((a, b) => a | b)),
  BitwiseXor: broadcasting(keep, num((a, b) => a ^ b)),
  BitShift: broadcasting(keep, bitShift),
  Where: {
    infer(ctx) {
      const shape = broadcast(ctx, [ctx.shape(0), ctx.shape(1), ctx.shape(2)]);
      const out: TensorInfo = { dtype: ctx.dtype(1), shape };
      const v = broadcastValues(ctx, shape, (xs) => (typeof xs[0] === "number" ? (xs[0] !== 0 ? xs[1] : xs[2]) : undefined));
      if (v) out.value = v;
      return [out];
    },
    flops: (_ctx, outs) => (outs[0]?.shape ? numel(outs[0].shape) : 0),
  },
  Clip: clip,
};

/** Unary value map when input values are known. */
function valueMap(ctx: InferContext, f: (x: Dim) => Dim | undefined): { value?: Dim[] } {
  const v = ctx.value(0);
  if (!v) return {};
  const out: Dim[] = [];
  for (const x of v) {
    const y = f(x);
    if (y === undefined) return {};
    out.push(y);
  }
  return { value: out };
}
