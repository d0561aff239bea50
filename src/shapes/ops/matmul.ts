/** Shape rules: MatMul (numpy semantics), Gemm, Einsum (general equations with ellipsis and repeats). */
import { equal, mul, product, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule } from "../types.js";
import { broadcast, macFlops } from "../util.js";

function sameK(ctx: InferContext, a: Dim, b: Dim, what: string): void {
  if (typeof a === "number" && typeof b === "number" && a !== b) ctx.error(`${what}: inner dims ${a} and ${b} differ`);
}

/** numpy.matmul: 1-D operands are promoted (and the added dim removed), batch dims broadcast. */
export function matmulShape(ctx: InferContext, a: readonly Dim[], b: readonly Dim[]): { shape: Dim[]; m: Dim; n: Dim; k: Dim; batch: Dim[] } {
  if (a.length === 0 || b.length === 0) ctx.error("MatMul operands must have rank >= 1");
  const A = a.length === 1 ? [1, a[0]!] : a.slice();
  const B = b.length === 1 ? [b[0]!, 1] : b.slice();
  const m = A[A.length - 2]!;
  const k = A[A.length - 1]!;
  const n = B[B.length - 1]!;
  sameK(ctx, k, B[B.length - 2]!, "MatMul");
  const batch = broadcast(ctx, [A.slice(0, -2), B.slice(0, -2)]);
  const shape = [...batch];
  if (a.length > 1) shape.push(m);
  if (b.length > 1) shape.push(n);
  return { shape, m, n, k, batch };
}

const matMul: OpRule = {
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: matmulShape(ctx, ctx.shape(0), ctx.shape(1)).shape }],
  flops(ctx) {
    const { m, n, k, batch } = matmulShape(ctx, ctx.shape(0), ctx.shape(1));
    return macFlops(m, n, k, product(batch));
  },
};

function gemmDims(ctx: InferContext): { m: Dim; n: Dim; k: Dim } {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  if (a.length !== 2 || b.length !== 2) ctx.error(`Gemm needs 2-D operands, got ranks ${a.length} and ${b.length}`);
  const [m, ka] = ctx.int("transA", 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = ctx.int("transB", 0) ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  sameK(ctx, ka, kb, "Gemm");
  return { m, n, k: ka };
}

const gemm: OpRule = {
  infer(ctx: InferContext) {
    const { m, n } = gemmDims(ctx);
    // C must broadcast to [M, N]; a C that can not is an error, never a different output shape.
    if (ctx.has(2)) {
      const c = ctx.input(2).shape;
      if (c && c.length > 2) ctx.error(`C has rank ${c.length}, expected at most 2`);
      if (c) broadcast(ctx, [[m, n], c]);
    }
    return [{ dtype: ctx.dtype(0), shape: [m, n] }];
  },
  flops(ctx) {
    const { m, n, k } = gemmDims(ctx);
    return macFlops(m, n, k);
  },
};

/** One operand of an einsum equation: its letters, with "..." standing for the ellipsis dims. */
interface Term {
  labels: string[];
  ellipsis: number;
}

const ELLIPSIS = "...";

function parseTerm(ctx: InferContext, text: string): Term {
  const parts = text.split(ELLIPSIS);
  if (parts.length > 2) ctx.error(`einsum term '${text}' has more than one ellipsis`);
  const labels: string[] = [];
  parts.forEach((p, i) => {
    if (i === 1) labels.push(ELLIPSIS);
    for (const c of p) {
      if (!/[A-Za-z]/.test(c)) ctx.error(`einsum term '${text}' has invalid character '${c}'`);
      labels.push(c);
    }
  });
  return { labels, ellipsis: parts.length === 2 ? labels.indexOf(ELLIPSIS) : -1 };
}

/** Parse and size an einsum equation against the input shapes. */
function einsum(ctx: InferContext): { shape: Dim[]; sizes: Map<string, Dim>; ellipsisDims: Dim[] } {
  const eq = ctx.string("equation", "").replace(/\s+/g, "");
  if (!eq) ctx.error("equation attribute is required");
  const [lhs, rhs] = eq.split("->") as [string, string | undefined];
  const terms = lhs.split(",").map((t) => parseTerm(ctx, t));
  const nIn = ctx.inputs.length;
  if (terms.length !== nIn) ctx.error(`equation '${eq}' has ${terms.length} operands, node has ${nIn} inputs`);
  const sizes = new Map<string, Dim>();
  const counts = new Map<string, number>();
  const ellipsisShapes: Dim[][] = [];
  terms.forEach((t, i) => {
    const shape = ctx.shape(i);
    const named = t.labels.length - (t.ellipsis >= 0 ? 1 : 0);
    if (t.ellipsis < 0 ? shape.length !== named : shape.length < named) {
      ctx.error(`operand ${i} has rank ${shape.length}, term '${t.labels.join("")}' needs ${named}`);
    }
    const eRank = shape.length - named;
    let pos = 0;
    for (const l of t.labels) {
      if (l === ELLIPSIS) {
        ellipsisShapes.push(shape.slice(pos, pos + eRank));
        pos += eRank;
        continue;
      }
      const d = shape[pos++]!;
      const prev = sizes.get(l);
      // A label of size 1 broadcasts against the same label elsewhere (numpy einsum allows it).
      if (prev === undefined || prev === 1) sizes.set(l, d);
      else if (d !== 1 && !equal(prev, d) && typeof prev === "number" && typeof d === "number") {
        ctx.error(`label '${l}' has sizes ${prev} and ${d}`);
      }
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
  });
  const ellipsisDims = broadcast(ctx, ellipsisShapes);
  let outLabels: string[];
  if (rhs !== undefined) {
    outLabels = parseTerm(ctx, rhs).labels;
    for (const l of outLabels) if (l !== ELLIPSIS && !sizes.has(l)) ctx.error(`output label '${l}' is not in any input`);
  } else {
    // Implicit output: the ellipsis dims, then labels that occur exactly once, in alphabetical order.
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l).sort();
    outLabels = ellipsisShapes.length ? [ELLIPSIS, ...once] : once;
  }
  const shape: Dim[] = [];
  for (const l of outLabels) {
    if (l === ELLIPSIS) shape.push(...ellipsisDims);
    else shape.push(sizes.get(l)!);
  }
  return { shape, sizes, ellipsisDims };
}

const einsumRule: OpRule = {
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: einsum(ctx).shape }],
  flops(ctx) {
    // Evaluated as one loop over every label (and the ellipsis dims): a multiply-add per point for each
    // extra operand; a single operand is a plain reduction (one add per point).
    const { sizes, ellipsisDims } = einsum(ctx);
    const points = mul(product([...sizes.values()]), product(ellipsisDims));
    const n = ctx.inputs.length;
    return n <= 1 ? points : mul(points, 2 * (n - 1));
  },
};

export const rules: OpFamily = {
  MatMul: matMul,
  Gemm: gemm,
  Einsum: einsumRule,
};
