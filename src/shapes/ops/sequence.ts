/**
 * Shape rules: tensor sequences and optionals. A sequence whose length and items are known keeps each
 * item's info in `items` (SequenceConstruct, SplitToSequence with known sizes, Insert/Erase at known
 * positions), so SequenceAt and ConcatFromSequence stay exact; otherwise `elem` is the join of what it can
 * hold, and a read from it is a warning. An optional keeps its element in `elem`, and in `items` ([] or
 * [x]) whether it is known to be empty.
 */
import type { DType } from "../../graph/dtype.js";
import { dtypeFromCode } from "../../graph/dtype.js";
import type { ValueType } from "../../graph/ir.js";
import { ceilDiv, mul, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, sumDims } from "../util.js";
import { joinInfo } from "./control.js";

/** A sequence of known items; `elem` joins them (fresh symbols where they differ). */
export function sequenceOf(ctx: InferContext, items: TensorInfo[], dtype?: DType): TensorInfo {
  const notes: string[] = [];
  let elem: TensorInfo | undefined = items[0];
  for (const it of items.slice(1)) elem = joinInfo(ctx, elem, it, "seq_dim", notes);
  return { kind: "sequence", dtype: undefined, shape: undefined, elem: elem ?? { dtype, shape: undefined }, items };
}

/** A sequence of unknown length whose items look like `elem`. */
function sequenceLike(elem: TensorInfo): TensorInfo {
  return { kind: "sequence", dtype: undefined, shape: undefined, elem };
}

function sequenceInput(ctx: InferContext, i: number): TensorInfo {
  const s = ctx.input(i);
  if (s.kind !== "sequence") ctx.error(`input ${i} is not a sequence`);
  return s;
}

/** A known scalar position, or undefined. */
function position(ctx: InferContext, i: number): number | undefined {
  if (!ctx.has(i)) return undefined;
  const v = ctx.numbers(i);
  return v?.length === 1 ? v[0] : undefined;
}

function normalise(ctx: InferContext, pos: number, length: number, inclusiveEnd: boolean): number {
  const p = pos < 0 ? pos + length : pos;
  if (p < 0 || p > length || (!inclusiveEnd && p === length)) ctx.error(`position ${pos} out of range for a sequence of ${length}`);
  return p;
}

/** The element info for a read at an unknown position (or from a sequence of unknown items). */
function anyItem(ctx: InferContext, s: TensorInfo, why: string): TensorInfo {
  if (!s.elem) ctx.unknown(`${why}, and the sequence's element type is unknown`);
  if (s.items && s.items.length > 1) ctx.warn(`${why}: using the join of the ${s.items.length} items`);
  else if (!s.items) ctx.warn(`${why}: using the sequence's element type`);
  return s.elem;
}

const sequenceEmpty: OpRule = {
  infer(ctx: InferContext) {
    const code = ctx.int("dtype", 1);
    const dtype = dtypeFromCode(code);
    if (!dtype) ctx.error(`unknown dtype code ${code}`);
    return [sequenceOf(ctx, [], dtype)];
  },
};

const sequenceConstruct: OpRule = {
  infer(ctx: InferContext) {
    const items = ctx.inputs.map((_, i) => ctx.input(i));
    return [sequenceOf(ctx, items)];
  },
};

const sequenceInsert: OpRule = {
  infer(ctx: InferContext) {
    const s = sequenceInput(ctx, 0);
    const t = ctx.input(1);
    const pos = position(ctx, 2);
    if (s.items && (pos !== undefined || !ctx.has(2))) {
      const items = s.items.slice();
      items.splice(pos === undefined ? items.length : normalise(ctx, pos, items.length, true), 0, t);
      return [sequenceOf(ctx, items)];
    }
    const notes: string[] = [];
    const elem = s.items?.length === 0 ? t : joinInfo(ctx, s.elem, t, "seq_dim", notes);
    if (notes.length) ctx.warn(`inserted tensor differs from the sequence's element type (${notes.join("; ")})`);
    return [sequenceLike(elem)];
  },
};

const sequenceErase: OpRule = {
  infer(ctx: InferContext) {
    const s = sequenceInput(ctx, 0);
    const pos = position(ctx, 1);
    if (s.items && (pos !== undefined || !ctx.has(1))) {
      if (s.items.length === 0) ctx.error("erase from an empty sequence");
      const items = s.items.slice();
      items.splice(pos === undefined ? items.length - 1 : normalise(ctx, pos, items.length, false), 1);
      return [sequenceOf(ctx, items, s.elem?.dtype)];
    }
    return [s.elem ? sequenceLike(s.elem) : sequenceLike({ dtype: undefined, shape: undefined })];
  },
};

const sequenceAt: OpRule = {
  infer(ctx: InferContext) {
    const s = sequenceInput(ctx, 0);
    const pos = position(ctx, 1);
    if (s.items && pos !== undefined) return [s.items[normalise(ctx, pos, s.items.length, false)]!];
    return [anyItem(ctx, s, pos === undefined ? "position unknown" : "sequence items unknown")];
  },
};

const sequenceLength: OpRule = {
  infer(ctx: InferContext) {
    const s = sequenceInput(ctx, 0);
    return [s.items ? { dtype: "int64", shape: [], value: [s.items.length] } : { dtype: "int64", shape: [] }];
  },
};

const splitToSequence: OpRule = {
  infer(ctx: InferContext) {
    const shape = ctx.shape(0);
    const dtype = ctx.dtype(0);
    const a = axis(ctx, ctx.int("axis", 0), shape.length);
    const dim = shape[a]!;
    const piece = (len: Dim): TensorInfo => ({ dtype, shape: shape.map((d, k) => (k === a ? len : d)) });
    if (!ctx.has(1)) {
      // No split: pieces of length 1, the axis dropped unless keepdims.
      const keep = ctx.int("keepdims", 1) !== 0;
      const item: TensorInfo = keep ? piece(1) : { dtype, shape: shape.filter((_, k) => k !== a) };
      if (typeof dim === "number") return [sequenceOf(ctx, new Array<TensorInfo>(dim).fill(item))];
      return [sequenceLike(item)];
    }
    const split = ctx.value(1);
    const splitShape = ctx.shape(1);
    if (split === undefined) {
      ctx.warn("split sizes unknown: item lengths along the axis are a symbol bounded by the input's");
      return [sequenceLike(piece(ctx.fresh("split_len", dim)))];
    }
    if (splitShape.length === 0) {
      // A scalar: equal chunks of that size, the last one shorter.
      const size = split[0]!;
      if (typeof size === "number" && size <= 0) ctx.error(`split size must be positive, got ${size}`);
      const count = ceilDiv(dim, size);
      if (typeof count !== "number") return [sequenceLike(piece(size))];
      const rest = sub(dim, mul(size, count - 1));
      const items = Array.from({ length: count }, (_, k) => piece(k === count - 1 ? rest : size));
      return [sequenceOf(ctx, items)];
    }
    const total = sumDims(split);
    if (typeof total === "number" && typeof dim === "number" && total !== dim) {
      ctx.error(`split sizes sum to ${total}, the axis has ${dim}`);
    }
    return [sequenceOf(ctx, split.map((len) => piece(len)))];
  },
};

const concatFromSequence: OpRule = {
  infer(ctx: InferContext) {
    const s = sequenceInput(ctx, 0);
    const newAxis = ctx.int("new_axis", 0) !== 0;
    const rawAxis = ctx.int("axis");
    if (rawAxis === undefined) ctx.error("attribute 'axis' is required");
    const items = s.items;
    if (items && items.length === 0) ctx.error("concatenating an empty sequence");
    const first = items?.[0] ?? s.elem;
    if (!first?.shape) ctx.unknown("the sequence's element shape is unknown");
    const rank = first.shape.length;
    const a = axis(ctx, rawAxis, newAxis ? rank + 1 : rank);
    if (!items) {
      ctx.warn("sequence length unknown: the concatenated dim is a symbol");
      const shape = first.shape.slice();
      if (newAxis) shape.splice(a, 0, ctx.fresh("seq_len"));
      else shape[a] = ctx.fresh("concat_len");
      return [{ dtype: first.dtype, shape }];
    }
    for (const it of items) {
      if (!it.shape) ctx.unknown("a sequence item's shape is unknown");
      if (it.shape.length !== rank) ctx.error(`items have ranks ${rank} and ${it.shape.length}`);
    }
    const shape = first.shape.slice();
    if (newAxis) shape.splice(a, 0, items.length);
    else shape[a] = sumDims(items.map((it) => it.shape![a]!));
    return [{ dtype: first.dtype, shape }];
  },
};

/** SequenceMap: the body runs once per position; outputs are sequences of the body's outputs. */
const sequenceMap: OpRule = {
  infer(ctx: InferContext) {
    const body = ctx.graph("body");
    if (!body) ctx.error("attribute 'body' is missing");
    const inputs = ctx.inputs.map((_, i) => ctx.input(i));
    const seqs = inputs.filter((x) => x.kind === "sequence");
    const knownLength = seqs.every((x) => x.items !== undefined) ? seqs[0]?.items?.length : undefined;
    const outCount = body.outputs.length;
    if (knownLength !== undefined) {
      const perOut: TensorInfo[][] = Array.from({ length: outCount }, () => []);
      for (let k = 0; k < knownLength; k++) {
        const args = inputs.map((x) => (x.kind === "sequence" ? (x.items?.[k] ?? { dtype: undefined, shape: undefined }) : x));
        ctx.inferSubgraph(body, args).forEach((o, j) => perOut[j]!.push(o));
      }
      return perOut.map((items) => sequenceOf(ctx, items));
    }
    const args = inputs.map((x) => (x.kind === "sequence" ? (x.elem ?? { dtype: undefined, shape: undefined }) : x));
    return ctx.inferSubgraph(body, args).map((o) => sequenceLike(o));
  },
};

/** The info of a declared type attribute (Optional's `type`). */
function infoOfType(t: ValueType): TensorInfo {
  switch (t.kind) {
    case "tensor":
    case "sparse":
      return { dtype: t.dtype, shape: t.shape?.slice() };
    case "sequence":
      return sequenceLike(infoOfType(t.elem));
    case "optional":
      return { kind: "optional", dtype: undefined, shape: undefined, elem: infoOfType(t.elem) };
    default:
      return { dtype: undefined, shape: undefined };
  }
}

const optional: OpRule = {
  infer(ctx: InferContext) {
    if (ctx.has(0)) {
      const x = ctx.input(0);
      return [{ kind: "optional", dtype: undefined, shape: undefined, elem: x, items: [x] }];
    }
    const t = ctx.node.attrs["type"];
    if (t?.type !== "type") ctx.error("an empty Optional needs the 'type' attribute");
    return [{ kind: "optional", dtype: undefined, shape: undefined, elem: infoOfType(t.value), items: [] }];
  },
};

const optionalHasElement: OpRule = {
  infer(ctx: InferContext) {
    if (!ctx.has(0)) return [{ dtype: "bool", shape: [], value: [0] }];
    const x = ctx.input(0);
    if (x.kind !== "optional") return [{ dtype: "bool", shape: [], value: [1] }];
    return [x.items ? { dtype: "bool", shape: [], value: [x.items.length] } : { dtype: "bool", shape: [] }];
  },
};

const optionalGetElement: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.input(0);
    // Opset 18 also accepts a plain tensor or sequence, returned as is.
    if (x.kind !== "optional") return [x];
    if (x.items?.length === 0) ctx.error("getting the element of an optional known to be empty");
    if (!x.elem) ctx.unknown("the optional's element type is unknown");
    return [x.elem];
  },
};

export const rules: OpFamily = {
  SequenceEmpty: sequenceEmpty,
  SequenceConstruct: sequenceConstruct,
  SequenceInsert: sequenceInsert,
  SequenceErase: sequenceErase,
  SequenceAt: sequenceAt,
  SequenceLength: sequenceLength,
  SplitToSequence: splitToSequence,
  ConcatFromSequence: concatFromSequence,
  SequenceMap: sequenceMap,
  Optional: optional,
  OptionalHasElement: optionalHasElement,
  OptionalGetElement: optionalGetElement,
};
