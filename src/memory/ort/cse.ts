/**
 * Two of ORT's level-1 graph transformers that decide which small tensors exist at run time:
 * - ConstantSharing (constant_sharing.cc): initializers holding one number (a scalar or a 1-element 1-D
 *   tensor) of the same type and value become one initializer;
 * - CommonSubexpressionElimination (common_subexpression_elimination.cc): nodes with the same op,
 *   attributes and inputs compute the same outputs, so all but the first are dropped and their readers
 *   read the first one's outputs. Non-deterministic ops and nodes with subgraphs stay; so do nodes writing
 *   a graph output, which can still be the first one the others are replaced by.
 * Exporters repeat shape arithmetic (vit_b_16: three Shape nodes of one tensor per attention block,
 * Unsqueeze of the same value into the same axes); ORT keeps one of each. The outputs are tiny, but where
 * they sit between large blocks moves the memory pattern's layout.
 */
import type { Attr } from "../../graph/ir.js";
import type { OrtNode, RewriteContext } from "./types.js";

const NON_DETERMINISTIC = new Set(["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Dropout"]);

/** The shared identity of a one-number constant, or undefined for anything else. */
function sharedConstantKey(ctx: RewriteContext, name: string): string | undefined {
  if (!ctx.constants.has(name)) return undefined;
  const v = ctx.inference.values.get(name);
  const shape = v?.shape;
  const value = v?.value;
  if (!shape || !value || value.length !== 1 || shape.length > 1 || (shape.length === 1 && shape[0] !== 1)) return undefined;
  const x = value[0];
  if (typeof x !== "number") return undefined;
  return `=${v.dtype ?? "?"}[${shape.length}]${x}`;
}

function attrKey(a: Attr): string | undefined {
  switch (a.type) {
    case "float":
    case "int":
    case "string":
      return `${a.type}:${a.value}`;
    case "floats":
    case "ints":
    case "strings":
      return `${a.type}:${a.value.join(",")}`;
    default:
      // Tensors, subgraphs and references are not compared: such nodes are left alone.
      return undefined;
  }
}

/** Drops repeated computations; returns the nodes kept, readers rewired to the first of each kind. */
export function eliminateCommonSubexpressions(ctx: RewriteContext): OrtNode[] {
  const replacedBy = new Map<string, string>();
  const first = new Map<string, OrtNode>();
  const kept: OrtNode[] = [];
  for (const n of ctx.nodes) {
    n.inputs = n.inputs.map((x) => replacedBy.get(x) ?? x);
    const attrs = Object.keys(n.attrs).sort().map((k) => {
      const v = attrKey(n.attrs[k]!);
      return v === undefined ? undefined : `${k}=${v}`;
    });
    if (NON_DETERMINISTIC.has(n.op) || attrs.includes(undefined)) {
      kept.push(n);
      continue;
    }
    const key = `${n.op}|${attrs.join(";")}|${n.inputs.map((x) => sharedConstantKey(ctx, x) ?? x).join(",")}|${n.outputs.length}`;
    const same = first.get(key);
    // A node writing a graph output is never dropped, but as the first of its kind it is the one the
    // others are replaced by (imgly-medium: a Resize reads the graph output's Cast, not its own copy).
    if (n.outputs.some((o) => ctx.outputs.has(o))) {
      if (!same) first.set(key, n);
      kept.push(n);
      continue;
    }
    if (same) {
      n.outputs.forEach((o, i) => o !== "" && replacedBy.set(o, same.outputs[i]!));
      continue;
    }
    first.set(key, n);
    kept.push(n);
  }
  return kept;
}
