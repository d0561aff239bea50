/** Gradient checkpointing: which ops form the blocks torch.utils.checkpoint recomputes. */
import type { EagerOp } from "../torch/eager.js";

/**
 * Checkpointed blocks: runs of consecutive ops under one module (of three ops or more), at the module nesting
 * depth that keeps least for backward: what each block reads from outside (kept through the forward), plus
 * the most one block saves (while it is recomputed), plus what the ops outside any block save. That is the
 * granularity users pick: a transformer's layers (HF's gradient_checkpointing), ResNet's bottlenecks.
 * `saved[i]` is what op i saves without checkpointing, `bytes` the size of a storage. -1: outside any block.
 */
export function checkpointBlocks(ops: EagerOp[], saved: number[], bytes: (storage: string) => number): number[] {
  let best: number[] = ops.map(() => -1);
  let bestCost = Number.POSITIVE_INFINITY;
  const maxDepth = ops.reduce((m, op) => Math.max(m, op.path.length), 0);
  for (let depth = 1; depth <= maxDepth; depth++) {
    const ids: number[] = ops.map(() => -1);
    let count = 0;
    let kept = 0;
    let largest = 0;
    let outside = 0;
    let i = 0;
    const keyAt = (k: number): string | undefined => (ops[k]!.path.length >= depth ? ops[k]!.path.slice(0, depth).join("/") : undefined);
    while (i < ops.length) {
      const key = keyAt(i);
      let j = i;
      while (key !== undefined && j + 1 < ops.length && keyAt(j + 1) === key) j++;
      if (key !== undefined && j - i + 1 >= 3) {
        const made = new Set<string>();
        const inputs = new Set<string>();
        let inside = 0;
        for (let k = i; k <= j; k++) {
          for (const r of ops[k]!.reads) if (!made.has(r)) inputs.add(r);
          for (const a of ops[k]!.allocs) made.add(a.id);
          ids[k] = count;
          inside += saved[k] ?? 0;
        }
        for (const r of inputs) kept += bytes(r);
        largest = Math.max(largest, inside);
        count++;
      } else for (let k = i; k <= j; k++) outside += saved[k] ?? 0;
      i = j + 1;
    }
    const cost = kept + largest + outside;
    if (count >= 2 && cost < bestCost) {
      best = ids;
      bestCost = cost;
    }
  }
  return best;
}
