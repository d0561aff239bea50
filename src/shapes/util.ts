/** Shape helpers shared by the op families: broadcasting, axes, element counts, value arithmetic. */
import { add, compare, dimToString, equal, floorDiv, isSym, max, mul, product, type Dim } from "../sym/expr.js";
import type { DType } from "../graph/dtype.js";
import type { InferContext, OpRule, TensorInfo } from "./types.js";
import { elementCount } from "../graph/element-count.js";

/** Numpy-style multidirectional broadcasting. A symbolic dim against 1 wins; two different symbols: max(). */
export function broadcast(ctx: InferContext, shapes: readonly Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + k];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (!equal(d, x)) {
        if (typeof d === "number" && typeof x === "number") ctx.error(`can not broadcast ${fmt(shapes)}`);
        d = max(d, x);
      }
    }
    out.push(d);
  }
  return out;
}

export function fmt(shapes: readonly (readonly Dim[])[]): string {
  return shapes.map((s) => `[${s.map(String).join(",")}]`).join(" and ");
}

/** Normalise a possibly negative axis against a rank; a ShapeError when out of range. */
export function axis(ctx: InferContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) ctx.error(`axis ${a} out of range for rank ${rank}`);
  return r;
}

export function numel(shape: readonly Dim[]): Dim {
  return product(shape);
}

/** The element count as a number when it is known. */
export function knownNumel(shape: readonly Dim[] | undefined): number | undefined {
  if (!shape) return undefined;
  const n = product(shape);
  return typeof n === "number" ? n : undefined;
}

export function isStatic(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => !isSym(d));
}

/** Output info like input i (elementwise unary ops), keeping dtype. */
export function same(ctx: InferContext, i = 0): TensorInfo {
  return { dtype: ctx.dtype(i), shape: ctx.shape(i).slice() };
}

/** Multiply-add count 2*m*n*k as a Dim. */
export function macFlops(...dims: Dim[]): Dim {
  return mul(2, product(dims));
}

export function sumDims(dims: readonly Dim[]): Dim {
  let s: Dim = 0;
  for (const d of dims) s = add(s, d);
  return s;
}

/** Row-major strides for a static shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Indexes at or beyond this magnitude mean "to the end" in Slice (INT32/INT64 max and min as exporters write them). */
export const SLICE_TO_END = 2 ** 31 - 1;

/** A tensor's values with its static shape, when both are known (the form value folds need). */
export function staticValues(ctx: InferContext, i: number): { v: Dim[]; s: number[] } | undefined {
  if (!ctx.has(i)) return undefined;
  const s = ctx.input(i).shape;
  if (!s || !isStatic(s)) return undefined;
  const v = ctx.value(i);
  if (!v || v.length !== elementCount(s)) return undefined;
  return { v, s };
}

/** Row-major coordinates of a flat index. */
export function unravel(flat: number, shape: readonly number[], str: readonly number[]): number[] {
  return shape.map((d, k) => Math.floor(flat / str[k]!) % d);
}

/** A list of integers from input i (opset >= threshold) or attribute `name` (older opsets); undefined when absent. */
export function intsFromInputOrAttr(ctx: InferContext, i: number, name: string, sinceInput: number): Dim[] | undefined {
  if (ctx.opset >= sinceInput) {
    if (!ctx.has(i)) return undefined;
    const v = ctx.value(i);
    if (!v) ctx.unknown(`input ${i} ('${name}') is computed at run time and its values are not known`);
    return v;
  }
  return ctx.ints(name);
}

/** A scalar (or one-element) input's value, or undefined when not known. */
export function scalarValue(ctx: InferContext, i: number): Dim | undefined {
  if (!ctx.has(i)) return undefined;
  const v = ctx.value(i);
  return v && v.length === 1 ? v[0] : undefined;
}

/** Whether a dtype holds integers (values of such tensors are tracked symbolically). */
export function isIntegerType(t: DType | undefined): boolean {
  return t !== undefined && /^u?int|^bool$/.test(t);
}

/**
 * Fold a comparison (Equal, Less, ...) on values that may be symbolic: the provable sign of a - b decides
 * (Equal(batch, -1) is false: a size is >= 1), else the result is unknown. NaN compares false, as in IEEE.
 */
export function compareFold(holds: (sign: -1 | 0 | 1) => boolean): (xs: Dim[]) => Dim | undefined {
  return (xs) => {
    const [a, b] = xs as [Dim, Dim];
    if (Number.isNaN(a) || Number.isNaN(b)) return 0;
    const sign = compare(a, b);
    return sign === undefined ? undefined : +holds(sign);
  };
}

/**
 * ceil(span / step) for a positive integer step, spelled floor((span + step - 1) / step): the form torch's
 * exporter writes ((seq + 1)//2 for x[::2]), so symbolic results compare equal to its value_info.
 */
export function stepsIn(span: Dim, step: number): Dim {
  return floorDiv(add(span, step - 1), step);
}

/** Moving, viewing, indexing or filling data is not arithmetic: such rules count 0 FLOPs, not "unknown". */
export function movesData(rule: OpRule): OpRule {
  return rule.flops ? rule : { ...rule, flops: () => 0 };
}

/** Values of input i that must be known for the op's output shape (Reshape target, Slice starts...). */
export function needValues(ctx: InferContext, i: number, what: string): Dim[] {
  const v = ctx.value(i);
  if (v === undefined) ctx.unknown(`${what} (input ${i}) is computed at run time and its values are not known`);
  return v;
}

export function needNumbers(ctx: InferContext, i: number, what: string): number[] {
  const v = needValues(ctx, i, what);
  if (v.some(isSym)) ctx.unknown(`${what} (input ${i}) is symbolic: [${v.map(dimToString).join(",")}]`);
  return v as number[];
}
