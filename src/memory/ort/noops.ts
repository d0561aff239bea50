/**
 * ORT's level-1 no-op eliminations that remove a tensor: Identity, inference Dropout, Pad by zero, same-type
 * Cast and arithmetic identities (NoopElimination) hand their input on.
 */
import type { OrtNode, RewriteContext } from "./types.js";

function renameInputs(nodes: OrtNode[], from: string, to: string): void {
  for (const n of nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/** Constant values of a small initializer/Constant output, when the inference tracked them. */
function constValues(ctx: RewriteContext, name: string): number[] | undefined {
  if (!ctx.constants.has(name)) return undefined;
  const v = ctx.inference.values.get(name)?.value;
  if (!v || !v.every((x): x is number => typeof x === "number")) return undefined;
  return v;
}

/**
 * ORT's NoopElimination (level 1): x + 0, 0 + x, x - 0, x * 1, 1 * x and x / 1 by a one-element constant
 * are x when the constant broadcasts nothing (same output shape and type). Returns x, or undefined.
 */
function arithmeticIdentityInput(ctx: RewriteContext, n: OrtNode): string | undefined {
  const neutral = n.op === "Add" || n.op === "Sub" ? 0 : n.op === "Mul" || n.op === "Div" ? 1 : undefined;
  if (neutral === undefined || n.inputs.length !== 2) return undefined;
  const [a, b] = n.inputs as [string, string];
  // Sub and Div are neutral on the right only.
  const candidates: [string, string][] = n.op === "Sub" || n.op === "Div" ? [[a, b]] : [[a, b], [b, a]];
  for (const [x, c] of candidates) {
    const v = constValues(ctx, c);
    if (ctx.constants.has(x) || !v || v.length !== 1 || v[0] !== neutral) continue;
    const tx = ctx.tensors.get(x);
    const ty = ctx.tensors.get(n.outputs[0] ?? "");
    const cShape = ctx.inference.values.get(c)?.shape;
    const sameShape = tx?.shape !== undefined && ty?.shape !== undefined && tx.shape.join("x") === ty.shape.join("x");
    // A constant of higher rank than x would add axes even with one element.
    if (sameShape && tx?.dtype === ty?.dtype && (cShape?.length ?? 0) <= tx!.shape!.length) return x;
  }
  return undefined;
}

/** Identity, Dropout (inference), Pad by zero, same-type Cast and arithmetic identities hand their input
 *  on: no tensor. */
export function eliminateNoOps(ctx: RewriteContext): OrtNode[] {
  const kept: OrtNode[] = [];
  for (const n of ctx.nodes) {
    const out = n.outputs[0];
    const identity = arithmeticIdentityInput(ctx, n);
    const src = identity ?? n.inputs[0];
    let noop = identity !== undefined || n.op === "Identity" || (n.op === "Dropout" && (n.outputs.length < 2 || n.outputs[1] === ""));
    if (n.op === "Pad" && src) {
      const pads = n.inputs[1] ? constValues(ctx, n.inputs[1]) : (n.attrs["pads"]?.type === "ints" ? n.attrs["pads"].value : undefined);
      noop = pads !== undefined && pads.every((p) => p === 0);
    }
    if (n.op === "Cast" && src && out) noop = ctx.tensors.get(src)?.dtype === ctx.tensors.get(out)?.dtype;
    if (noop && src && out && !ctx.outputs.has(out)) {
      renameInputs(ctx.nodes, out, src);
      continue;
    }
    kept.push(n);
  }
  return kept;
}
