/** Gradient checkpointing: which ops form the blocks torch.utils.checkpoint recomputes. */
import type { EagerOp } from "../torch/eager.js";

/**
 * Checkpointed blocks: runs of consecutive ops under one module (of three ops or more), at the module nesting
 * depth whose backward holds least at its worst moment. That is the granularity users pick: a transformer's
 * layers (HF's gradient_checkpointing), ResNet's bottlenecks (measured: bench/measure-train.py wraps each
 * bottleneck, and predicting that row from ResNet's stages instead was +25.9%).
 * The backward runs the blocks in reverse; while block b is recomputed and differentiated, what is held is
 * the inputs of blocks 0..b (an input read only by later blocks is freed once their backward has run), what the ops outside
 * any block and before b saved, and all b itself saves. Before the backward, every block input and every
 * outside op's saved tensors are held. The cost of a depth is the largest of these moments; a cost that
 * instead adds every block's input to the largest block (as if the largest ran last) prefers a few large
 * blocks over many small ones whose inputs are mostly gone by the time the big early blocks recompute.
 * `saved[i]` is what op i saves without checkpointing, `bytes` the size of a storage. -1: outside any block.
 */
export function checkpointBlocks(ops: EagerOp[], saved: number[], bytes: (storage: string) => number): number[] {
  let best: number[] = ops.map(() => -1);
  let bestCost = Number.POSITIVE_INFINITY;
  const maxDepth = ops.reduce((m, op) => Math.max(m, op.path.length), 0);
  for (let depth = 1; depth <= maxDepth; depth++) {
    const ids: number[] = ops.map(() => -1);
    let count = 0;
    // Running totals in forward order: block inputs so far (each storage once: DenseNet's layers all read the
    // same earlier feature maps) and outside ops' saved bytes so far.
    const held = new Set<string>();
    let inputsSoFar = 0;
    let outsideSoFar = 0;
    // The worst moment of the backward of any block seen so far.
    let worstBlock = 0;
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
        for (const r of inputs) {
          if (held.has(r)) continue;
          held.add(r);
          inputsSoFar += bytes(r);
        }
        worstBlock = Math.max(worstBlock, inputsSoFar + outsideSoFar + inside);
        count++;
      } else for (let k = i; k <= j; k++) outsideSoFar += saved[k] ?? 0;
      i = j + 1;
    }
    const cost = Math.max(worstBlock, inputsSoFar + outsideSoFar);
    if (count >= 2 && cost < bestCost) {
      best = ids;
      bestCost = cost;
    }
  }
  return best;
}

/** Each block's module (the innermost module path all its ops share), by block id, for the report. */
export function blockModules(ops: EagerOp[], ids: number[]): string[] {
  const names: string[] = [];
  ids.forEach((b, i) => {
    if (b < 0) return;
    const path = ops[i]!.path;
    const prev = names[b];
    if (prev === undefined) {
      names[b] = path.join("/");
      return;
    }
    const a = prev.split("/");
    let k = 0;
    while (k < a.length && k < path.length && a[k] === path[k]) k++;
    names[b] = a.slice(0, k).join("/");
  });
  return names;
}
