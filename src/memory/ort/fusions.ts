/**
 * ORT's level 1-2 fusions that change which tensors exist: Conv+BatchNormalization, Conv/Gemm+activation
 * (FusedConv/FusedGemm), Sigmoid+Mul -> QuickGelu, the Erf GELU pattern -> Gelu/BiasGelu, Transpose/scale ->
 * FusedMatMul.
 */
import type { OrtNode, RewriteContext } from "./types.js";

const CONV_ACTIVATIONS = new Set(["Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid"]);

/**
 * Who reads each tensor while the fusions rewrite the graph, without rebuilding consumersOf over the whole graph
 * at every question (that was quadratic): every node that ever read a name is kept, and a question counts the
 * input slots of those not removed that still read it, so it answers as consumersOf(live nodes) would.
 * `reads(n)` must follow every change of n.inputs.
 */
interface ReaderIndex {
  slots(name: string): { count: number; node: OrtNode | undefined };
  reads(n: OrtNode): void;
}

function readerIndex(nodes: readonly OrtNode[], removed: ReadonlySet<OrtNode>): ReaderIndex {
  const byName = new Map<string, Set<OrtNode>>();
  const reads = (n: OrtNode): void => {
    for (const i of n.inputs) {
      if (i === "") continue;
      const set = byName.get(i);
      if (set) set.add(n);
      else byName.set(i, new Set([n]));
    }
  };
  for (const n of nodes) reads(n);
  return {
    reads,
    slots(name) {
      let count = 0;
      let node: OrtNode | undefined;
      for (const n of byName.get(name) ?? []) {
        if (removed.has(n)) continue;
        for (const i of n.inputs) {
          if (i !== name) continue;
          count++;
          node ??= n;
        }
      }
      return { count, node };
    },
  };
}

/** The level 1-2 fusions (ORT_ENABLE_EXTENDED) that change which tensors exist. */
export function fuseLevel2(ctx: RewriteContext): OrtNode[] {
  const removed = new Set<OrtNode>();
  const readers = readerIndex(ctx.nodes, removed);
  const only = (name: string): OrtNode | undefined => {
    const c = readers.slots(name);
    return c.count === 1 && !ctx.outputs.has(name) ? c.node : undefined;
  };
  /** Replace `n`'s output by `victim`'s (victim removed). */
  const absorb = (n: OrtNode, victim: OrtNode): void => {
    n.outputs = [victim.outputs[0]!];
    removed.add(victim);
  };
  for (const n of ctx.nodes) {
    if (removed.has(n)) continue;
    const out = n.outputs[0];
    if (!out) continue;
    if (n.op === "Conv") {
      const next = only(out);
      if (next?.op === "BatchNormalization" && next.inputs.slice(1).every((i) => ctx.constants.has(i))) absorb(n, next);
    }
    if (n.op === "Sigmoid") {
      const x = n.inputs[0]!;
      const mul = only(out);
      if (mul?.op === "Mul" && mul.inputs.includes(x) && mul.inputs.includes(out)) {
        n.op = "ms.QuickGelu";
        absorb(n, mul);
      }
    }
    if (n.op === "Erf") fuseGelu(ctx, n, removed, only, readers);
  }
  // Activations fold into the producer once the patterns above have settled.
  for (const n of ctx.nodes) {
    if (removed.has(n) || (n.op !== "Conv" && n.op !== "Gemm") || n.activation) continue;
    const next = only(n.outputs[0]!);
    if (!next) continue;
    if ((n.op === "Conv" && CONV_ACTIVATIONS.has(next.op)) || (n.op === "Gemm" && next.op === "Relu")) {
      n.activation = next.op;
      n.op = n.op === "Conv" ? "ms.FusedConv" : "ms.FusedGemm";
      absorb(n, next);
    }
  }
  for (const n of ctx.nodes) {
    if (removed.has(n) || n.op !== "MatMul") continue;
    // Transposes (last two axes; batch axis moved, rank 3) and scaling by a constant scalar fold into
    // FusedMatMul (transA/transB, transBatchA/transBatchB, alpha).
    // A scale and a transpose can both sit on one input: look again after each absorption.
    for (let k = 0, tries = 0; k < 2 && tries < 8; tries++) {
      const src = ctx.nodes.find((p) => !removed.has(p) && p.outputs[0] === n.inputs[k]);
      if (!src || only(src.outputs[0]!) !== n) {
        k++;
        continue;
      }
      const perm = src.attrs["perm"]?.type === "ints" ? src.attrs["perm"].value : undefined;
      const swapsLast = perm !== undefined && perm.length >= 2 && perm.every((p, i) => (i < perm.length - 2 ? p === i : p === (i === perm.length - 1 ? perm.length - 2 : perm.length - 1)));
      // Rank 3: the batch axis moved to the middle (transBatch), with or without the last two swapped.
      const movesBatch = perm !== undefined && perm.length === 3 && ((perm[0] === 1 && perm[1] === 0 && perm[2] === 2) || (perm[0] === 1 && perm[1] === 2 && perm[2] === 0));
      const scalar = (src.op === "Mul" || src.op === "Div") && src.inputs.some((i) => ctx.constants.has(i) && (ctx.tensors.get(i)?.shape ?? [2]).every((d) => d === 1));
      if ((src.op === "Transpose" && (swapsLast || movesBatch)) || scalar) {
        n.inputs[k] = src.inputs.find((i) => !ctx.constants.has(i))!;
        readers.reads(n);
        n.op = "ms.FusedMatMul";
        removed.add(src);
      } else k++;
    }
  }
  return ctx.nodes.filter((n) => !removed.has(n));
}

/** x -> Div(sqrt2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5) (any order of the last two): Gelu(x), or
 *  BiasGelu when x is Add(y, constant bias). */
function fuseGelu(ctx: RewriteContext, erf: OrtNode, removed: Set<OrtNode>, only: (name: string) => OrtNode | undefined, readers: ReaderIndex): void {
  const producer = (name: string) => ctx.nodes.find((p) => !removed.has(p) && p.outputs.includes(name));
  const div = producer(erf.inputs[0]!);
  if (!div || (div.op !== "Div" && div.op !== "Mul")) return;
  const x = div.inputs[0]!;
  const add = only(erf.outputs[0]!);
  if (add?.op !== "Add") return;
  const m1 = only(add.outputs[0]!);
  if (m1?.op !== "Mul") return;
  const m2 = only(m1.outputs[0]!);
  let last = m1;
  const group = [div, add, m1];
  if (!m1.inputs.includes(x)) {
    // (1 + erf) * 0.5 first, then * x
    if (m2?.op !== "Mul" || !m2.inputs.includes(x)) return;
    last = m2;
    group.push(m2);
  } else if (m2?.op === "Mul" && m2.inputs.some((i) => ctx.constants.has(i))) {
    last = m2;
    group.push(m2);
  }
  erf.op = "ms.Gelu";
  erf.inputs = [x];
  readers.reads(erf);
  erf.outputs = [last.outputs[0]!];
  group.forEach((n) => removed.add(n));
  const bias = producer(x);
  if (bias?.op === "Add" && readers.slots(x).count === 1 && bias.inputs.some((i) => ctx.constants.has(i))) {
    erf.op = "ms.BiasGelu";
    // BiasGelu(X, bias), whichever side of the Add the constant was on (the kernel sizes by X).
    const b = bias.inputs.find((i) => ctx.constants.has(i))!;
    erf.inputs = [bias.inputs.find((i) => i !== b) ?? b, b];
    readers.reads(erf);
    removed.add(bias);
  }
  // Keep graph order: the fused node runs where the pattern's last node ran.
  const nodes = ctx.nodes;
  nodes.splice(nodes.indexOf(erf), 1);
  nodes.splice(nodes.indexOf(last) + 1, 0, erf);
}
