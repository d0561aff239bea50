/**
 * The one operator table. Each op family's file exports its rules; this file is the only place that
 * gathers them, so coverage can be printed from it (`coverage()`). A rule is looked up by
 * (domain, op type, opset): the rule with the highest `since` not above the model's opset wins.
 */
import type { OpFamily, OpRule } from "./types.js";
import { rules as activation } from "./ops/activation.js";
import { rules as contrib } from "./ops/contrib.js";
import { rules as control } from "./ops/control.js";
import { rules as conv } from "./ops/conv.js";
import { rules as elementwise } from "./ops/elementwise.js";
import { rules as generators } from "./ops/generators.js";
import { rules as loss } from "./ops/loss.js";
import { rules as matmul } from "./ops/matmul.js";
import { rules as misc } from "./ops/misc.js";
import { rules as normalization } from "./ops/normalization.js";
import { rules as pool } from "./ops/pool.js";
import { rules as quant } from "./ops/quant.js";
import { rules as reduce } from "./ops/reduce.js";
import { rules as resize } from "./ops/resize.js";
import { rules as rnn } from "./ops/rnn.js";
import { rules as sequence } from "./ops/sequence.js";
import { rules as shapeOps } from "./ops/shape-ops.js";
import { rules as tensorOps } from "./ops/tensor-ops.js";
import { rules as strings } from "./ops/strings.js";
import { rules as training } from "./ops/training.js";

export const FAMILIES: Record<string, OpFamily> = {
  elementwise,
  activation,
  conv,
  pool,
  resize,
  normalization,
  reduce,
  matmul,
  loss,
  "shape-ops": shapeOps,
  "tensor-ops": tensorOps,
  generators,
  control,
  sequence,
  rnn,
  misc,
  quant,
  contrib,
  strings,
  training,
};

/** "domain::op" -> rules sorted by descending `since`. */
const TABLE = new Map<string, OpRule[]>();
for (const [family, ops] of Object.entries(FAMILIES)) {
  for (const [op, r] of Object.entries(ops)) {
    for (const rule of Array.isArray(r) ? r : [r]) {
      const key = `${rule.domain ?? ""}::${op}`;
      const list = TABLE.get(key) ?? [];
      if (list.some((x) => (x.since ?? 1) === (rule.since ?? 1))) {
        throw new Error(`op table: ${key} since ${rule.since ?? 1} defined twice (family ${family})`);
      }
      list.push(rule);
      list.sort((a, b) => (b.since ?? 1) - (a.since ?? 1));
      TABLE.set(key, list);
    }
  }
}

export function lookupRule(domain: string, op: string, opset: number): OpRule | undefined {
  const list = TABLE.get(`${domain}::${op}`);
  if (!list) return undefined;
  return list.find((r) => (r.since ?? 1) <= opset) ?? list[list.length - 1];
}

/** Every (domain, op) the table knows, with its family: for `memlens ops` and the README. */
export function coverage(): { domain: string; op: string; family: string }[] {
  const out: { domain: string; op: string; family: string }[] = [];
  for (const [family, ops] of Object.entries(FAMILIES)) {
    for (const [op, r] of Object.entries(ops)) {
      const domains = new Set((Array.isArray(r) ? r : [r]).map((x) => x.domain ?? ""));
      for (const domain of domains) out.push({ domain, op, family });
    }
  }
  return out.sort((a, b) => (a.domain + a.op < b.domain + b.op ? -1 : 1));
}
