/**
 * Shape rules: control flow (If, Loop, Scan). Bodies are inferred with ctx.inferSubgraph, so every node
 * inside a branch or a loop body is checked too. What can only be known at run time (which branch runs,
 * how many iterations, a carried shape that grows) becomes a fresh symbol with an upper bound where one
 * exists, and a warning.
 */
import type { Graph, Node } from "../../graph/ir.js";
import { equal, max, sub, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis } from "../util.js";

/**
 * Join two infos that may each be the value at run time (If branches, loop iterations, sequence items).
 * A dim that differs becomes a fresh symbol, bounded by the larger of the two when the two are the only
 * possibilities (`bounded`); a loop-carried dim that grew once may grow again, so it gets no bound.
 */
export function joinInfo(
  ctx: InferContext,
  a: TensorInfo | undefined,
  b: TensorInfo | undefined,
  hint: string,
  notes: string[],
  bounded = true,
): TensorInfo {
  if (!a || !b) return { dtype: a?.dtype ?? b?.dtype, shape: undefined };
  // A value flowing into an optional (a loop-carried optional fed a sequence) is an optional holding it.
  if (a.kind === "optional" && b.kind !== "optional") b = { kind: "optional", dtype: undefined, shape: undefined, elem: b, items: [b] };
  if (b.kind === "optional" && a.kind !== "optional") a = { kind: "optional", dtype: undefined, shape: undefined, elem: a, items: [a] };
  const kind = a.kind ?? "tensor";
  if (kind !== (b.kind ?? "tensor")) {
    notes.push(`${hint}: a ${kind} on one path and a ${b.kind ?? "tensor"} on the other`);
    return { dtype: undefined, shape: undefined };
  }
  if (kind !== "tensor") return joinContainers(ctx, a, b, hint, notes, bounded);
  // An unknown type on one side is not a conflict: the known one is kept.
  const dtype = a.dtype === undefined || b.dtype === undefined || a.dtype === b.dtype ? (a.dtype ?? b.dtype) : undefined;
  if (a.dtype && b.dtype && a.dtype !== b.dtype) notes.push(`${hint}: element types ${a.dtype} and ${b.dtype} differ`);
  if (!a.shape || !b.shape) return { dtype, shape: undefined };
  if (a.shape.length !== b.shape.length) {
    notes.push(`${hint}: ranks ${a.shape.length} and ${b.shape.length} differ, shape unknown`);
    return { dtype, shape: undefined };
  }
  const shape = a.shape.map((d, i) => {
    const e = b.shape![i]!;
    if (equal(d, e)) return d;
    const fresh = bounded ? ctx.fresh(hint, max(d, e)) : ctx.fresh(hint);
    const range = bounded ? ` <= ${String(max(d, e))}` : " (unbounded)";
    notes.push(`${hint}: dim ${i} is ${String(d)} or ${String(e)}; ${String(fresh)}${range}`);
    return fresh;
  });
  const out: TensorInfo = { dtype, shape };
  if (a.value && b.value && a.value.length === b.value.length && a.value.every((v, i) => equal(v, b.value![i]!))) {
    out.value = a.value;
  }
  return out;
}

/** Sequences and optionals: items joined pairwise when both lengths are known and equal, else dropped. */
function joinContainers(ctx: InferContext, a: TensorInfo, b: TensorInfo, hint: string, notes: string[], bounded: boolean): TensorInfo {
  // An empty container says nothing about its element: the other side's element is the join.
  const elem =
    a.items?.length === 0 ? b.elem : b.items?.length === 0 ? a.elem : joinInfo(ctx, a.elem, b.elem, hint, notes, bounded);
  const out: TensorInfo = { kind: a.kind, dtype: undefined, shape: undefined, ...(elem ? { elem } : {}) };
  if (a.items && b.items) {
    if (a.items.length === b.items.length) out.items = a.items.map((x, i) => joinInfo(ctx, x, b.items![i], hint, notes, bounded));
    else notes.push(`${hint}: ${a.kind} of ${a.items.length} or ${b.items.length} items`);
  }
  return out;
}

/** The info an outer value carries into a body: values dropped when they change per iteration. */
function withoutValue(t: TensorInfo): TensorInfo {
  const { value: _v, initializer: _i, ...rest } = t;
  return rest;
}

function notParameter(t: TensorInfo): TensorInfo {
  if (!t.initializer) return t;
  const { initializer: _i, ...rest } = t;
  return rest;
}

function requireGraph(ctx: InferContext, name: string): Graph {
  const g = ctx.graph(name);
  if (!g) ctx.error(`attribute '${name}' (a graph) is missing`);
  return g;
}

function scalar(dtype: "int64" | "bool"): TensorInfo {
  return { dtype, shape: [] };
}

// ---------------------------------------------------------------------------------------------------- If

const ifRule: OpRule = {
  infer(ctx: InferContext) {
    const thenG = requireGraph(ctx, "then_branch");
    const elseG = requireGraph(ctx, "else_branch");
    const cond = ctx.numbers(0);
    // A branch may return an outer initializer; the If's output is a new value, not a parameter.
    if (cond !== undefined && cond.length === 1) return ctx.inferSubgraph(cond[0] ? thenG : elseG, []).map(notParameter);
    const a = ctx.inferSubgraph(thenG, []);
    const b = ctx.inferSubgraph(elseG, []);
    if (a.length !== b.length) ctx.error(`branches have ${a.length} and ${b.length} outputs`);
    const notes: string[] = [];
    const out = a.map((x, i) => joinInfo(ctx, x, b[i], "if_dim", notes));
    if (notes.length) ctx.warn(`condition unknown, branches differ (${notes.join("; ")})`);
    return out;
  },
};

// -------------------------------------------------------------------------------------------------- Loop

/** Whether the body's condition output is its condition input passed through (Identity or the same name). */
function conditionPassesThrough(body: Graph): boolean {
  const condIn = body.inputs[1]?.name;
  const condOut = body.outputs[0]?.name;
  if (condIn === undefined || condOut === undefined) return false;
  if (condIn === condOut) return true;
  const producer: Node | undefined = body.nodes.find((n) => n.outputs.includes(condOut));
  return producer?.opType === "Identity" && producer.inputs[0] === condIn;
}

/**
 * The number of iterations: M when the loop can only stop at M, a fresh symbol bounded by M when the body
 * may stop early, a fresh unbounded symbol when neither M nor the condition bounds it.
 */
function tripCount(ctx: InferContext, body: Graph, condOut: TensorInfo | undefined): Dim {
  const mValue = ctx.has(0) ? ctx.value(0) : undefined;
  const m: Dim | undefined = mValue?.length === 1 ? mValue[0] : undefined;
  const hasCond = ctx.has(1);
  const initialCond = hasCond ? ctx.numbers(1) : [1];
  if (initialCond?.length === 1 && initialCond[0] === 0) return 0;
  const alwaysTrue = !hasCond || condOut?.value?.[0] === 1 || conditionPassesThrough(body);
  if (m !== undefined && alwaysTrue) {
    if (hasCond && initialCond === undefined) {
      ctx.warn(`initial condition unknown; assuming it is true (${String(m)} iterations, the upper bound)`);
    }
    return m;
  }
  if (m !== undefined) {
    ctx.warn(`the body may stop before ${String(m)} iterations; iteration count is a symbol bounded by ${String(m)}`);
    return ctx.fresh("loop_iters", m);
  }
  ctx.warn("iteration count is data-dependent (no trip count M); scan outputs get an unbounded symbol");
  return ctx.fresh("loop_iters");
}

const loop: OpRule = {
  infer(ctx: InferContext) {
    const body = requireGraph(ctx, "body");
    const carriedCount = ctx.inputs.length - 2;
    let carried: TensorInfo[] = [];
    for (let i = 0; i < Math.max(0, carriedCount); i++) carried.push(withoutValue(ctx.input(i + 2)));
    // The iteration number is a symbol (0 <= i < M), so index arithmetic on it (Slice(x, i, i+1)) stays exact.
    const m = ctx.has(0) ? ctx.value(0)?.[0] : undefined;
    const iter: TensorInfo = { ...scalar("int64"), value: [ctx.fresh("loop_i", m === undefined ? undefined : sub(m, 1))] };
    const iterInputs = (c: TensorInfo[]) => [iter, scalar("bool"), ...c];
    let outs = ctx.inferSubgraph(body, iterInputs(carried));
    // A carried value whose shape changes between iterations (a growing concat): generalise the dims
    // that changed and run the body once more with the general shape.
    const notes: string[] = [];
    const general = carried.map((c, i) => joinInfo(ctx, c, outs[i + 1], "loop_dim", notes, false));
    if (notes.length) {
      ctx.warn(`loop-carried shapes change per iteration (${notes.join("; ")})`);
      carried = general;
      outs = ctx.inferSubgraph(body, iterInputs(carried));
    }
    const trips = tripCount(ctx, body, outs[0]);
    const finals = carried.map((c, i) => {
      const o = outs[i + 1];
      return trips === 0 ? c : o ? notParameter(o) : { dtype: c.dtype, shape: undefined };
    });
    const scans = outs.slice(1 + carried.length).map((s) => ({
      dtype: s?.dtype,
      shape: s?.shape ? [trips, ...s.shape] : undefined,
    }));
    return [...finals, ...scans];
  },
};

// -------------------------------------------------------------------------------------------------- Scan

/** Opset 9+: no batch dim; per-input scan axes and per-output scan axes. */
const scan9: OpRule = {
  since: 9,
  infer(ctx: InferContext) {
    const body = requireGraph(ctx, "body");
    const m = ctx.int("num_scan_inputs");
    if (m === undefined || m < 1) ctx.error("num_scan_inputs is required and positive");
    const n = ctx.inputs.length - m;
    if (n < 0) ctx.error(`${m} scan inputs but only ${ctx.inputs.length} inputs`);
    const inAxes = ctx.ints("scan_input_axes") ?? new Array<number>(m).fill(0);
    const states = Array.from({ length: n }, (_, i) => withoutValue(ctx.input(i)));
    let length: Dim | undefined;
    const slices = Array.from({ length: m }, (_, j) => {
      const x = ctx.input(n + j);
      const shape = ctx.shape(n + j);
      const a = axis(ctx, inAxes[j] ?? 0, shape.length);
      if (length === undefined) length = shape[a]!;
      else if (!equal(length, shape[a]!)) ctx.error(`scan inputs have lengths ${String(length)} and ${String(shape[a])}`);
      return { dtype: x.dtype, shape: shape.filter((_, k) => k !== a) };
    });
    const outs = ctx.inferSubgraph(body, [...states, ...slices]);
    const outAxes = ctx.ints("scan_output_axes");
    const scans = outs.slice(n).map((s, k) => {
      if (!s?.shape) return { dtype: s?.dtype, shape: undefined };
      const a = axis(ctx, outAxes?.[k] ?? 0, s.shape.length + 1);
      const shape = s.shape.slice();
      shape.splice(a, 0, length!);
      return { dtype: s.dtype, shape };
    });
    return [...outs.slice(0, n).map(notParameter), ...scans];
  },
};

/** Opset 8: input 0 is sequence_lens; every state and scan tensor has a leading batch dim, scan axis 1. */
const scan8: OpRule = {
  since: 8,
  infer(ctx: InferContext) {
    const body = requireGraph(ctx, "body");
    const m = ctx.int("num_scan_inputs");
    if (m === undefined || m < 1) ctx.error("num_scan_inputs is required and positive");
    const n = ctx.inputs.length - 1 - m;
    if (n < 0) ctx.error(`${m} scan inputs but only ${ctx.inputs.length - 1} state and scan inputs`);
    let batch: Dim | undefined;
    let length: Dim | undefined;
    const strip = (i: number, drop: number): TensorInfo => {
      const shape = ctx.shape(i);
      if (shape.length < drop) ctx.error(`input ${i} has rank ${shape.length}, below ${drop}`);
      if (batch === undefined) batch = shape[0]!;
      if (drop === 2) {
        if (length === undefined) length = shape[1]!;
        else if (!equal(length, shape[1]!)) ctx.error(`scan inputs have lengths ${String(length)} and ${String(shape[1])}`);
      }
      return { dtype: ctx.input(i).dtype, shape: shape.slice(drop) };
    };
    const states = Array.from({ length: n }, (_, i) => strip(1 + i, 1));
    const slices = Array.from({ length: m }, (_, j) => strip(1 + n + j, 2));
    const outs = ctx.inferSubgraph(body, [...states, ...slices]);
    return outs.map((s, k) => ({
      dtype: s?.dtype,
      shape: s?.shape ? (k < n ? [batch!, ...s.shape] : [batch!, length!, ...s.shape]) : undefined,
    }));
  },
};

export const rules: OpFamily = {
  If: ifRule,
  Loop: loop,
  Scan: [scan8, scan9],
};
