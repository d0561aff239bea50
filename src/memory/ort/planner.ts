/**
 * ORT's sequential allocation planner (onnxruntime/core/framework/allocation_planner.cc) over the graph it
 * runs: which tensors get their own buffer, which share one, and when each buffer is released.
 * - Reshape/Flatten/Squeeze/Unsqueeze/Identity outputs alias their input (no buffer);
 * - an op that may work in place (activations, Sum input of a fused NCHWc Conv) takes over its input's
 *   buffer when it is the input's last reader and the sizes match;
 * - otherwise a buffer freed earlier with exactly the same shape and element type is reused, most
 *   recently freed first (ORT's free list); graph outputs always get their own buffer;
 * - a buffer is released after the last reader of every tensor sharing it has run.
 * - a kernel's scratch (scratch.ts) is taken from the arena after its outputs and given back when it
 *   returns, before the node's inputs are released; it is flagged, as the memory pattern never sees it;
 * - a graph output's buffer is flagged too: ORT allocates it as kAllocateOutput, which the pattern does not trace.
 * The result is the allocation sequence the arena sees on the first run.
 */
import type { OrtGraph, OrtTensor } from "./types.js";
import { kernelScratchBytes } from "./scratch.js";

const ALIASES = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"]);
/** Ops registered with MayInplace(input, 0) in ORT's CPU provider. */
const IN_PLACE: Record<string, number[]> = {
  Relu: [0], Sigmoid: [0], Tanh: [0], LeakyRelu: [0], HardSigmoid: [0], Clip: [0], Elu: [0], Softplus: [0],
  "nchwc.Conv": [3], "ms.FusedConv": [3],
};

export type BufferEvent =
  | { kind: "alloc"; id: number; bytes: number; node: number; scratch?: true; output?: true }
  | { kind: "free"; id: number; node: number; scratch?: true };

export interface AllocationPlan {
  events: BufferEvent[];
  /** Tensor name -> buffer id (absent: input, constant or alias of one). */
  bufferOf: Map<string, number>;
  buffers: { id: number; bytes: number; owner: string }[];
}

export function planAllocations(g: OrtGraph): AllocationPlan {
  const outputs = new Set(g.outputs);
  const bufferOf = new Map<string, number>();
  const buffers: AllocationPlan["buffers"] = [];
  /** Remaining reads of each buffer, over every tensor sharing it. */
  const pending = new Map<number, number>();
  const readsOf = new Map<string, number>();
  for (const n of g.nodes) for (const x of n.inputs) if (x !== "") readsOf.set(x, (readsOf.get(x) ?? 0) + 1);
  const freeList: { id: number; key: string }[] = [];
  const keyOf = new Map<number, string>();
  const allocs: BufferEvent[] = [];
  /** Buffer -> node after which it goes back to the arena (removed again if a later tensor reuses it). */
  const freeAt = new Map<number, number>();
  const pinned = new Set<number>();
  const scratchFrees: BufferEvent[] = [];

  const key = (t: OrtTensor) => `${t.dtype ?? "?"}:${t.nchwc ? "c" : ""}${t.shape?.join("x") ?? `?${t.name}`}`;

  g.nodes.forEach((n, i) => {
    n.outputs.forEach((o, k) => {
      if (o === "") return;
      const t = g.tensors.get(o);
      const reads = readsOf.get(o) ?? 0;
      const input = n.inputs[0];
      if (ALIASES.has(n.op) && k === 0 && input && bufferOf.has(input)) {
        const b = bufferOf.get(input)!;
        bufferOf.set(o, b);
        pending.set(b, pending.get(b)! + reads);
        if (outputs.has(o)) pinned.add(b);
        return;
      }
      if (!t) return;
      if (k === 0 && !outputs.has(o) && t.staticShape) {
        for (const idx of IN_PLACE[n.op] ?? []) {
          const src = n.inputs[idx];
          const b = src ? bufferOf.get(src) : undefined;
          if (b === undefined || pinned.has(b) || keyOf.get(b) !== key(t)) continue;
          // Last reader of the buffer: this node's reads of it are its only pending ones.
          const here = n.inputs.filter((x) => x !== "" && bufferOf.get(x) === b).length;
          if (pending.get(b)! !== here) continue;
          bufferOf.set(o, b);
          pending.set(b, pending.get(b)! + reads);
          return;
        }
        const j = freeList.findIndex((f) => f.key === key(t));
        if (j >= 0) {
          const b = freeList[j]!.id;
          freeList.splice(j, 1);
          bufferOf.set(o, b);
          pending.set(b, reads);
          // The runtime keeps the owner's buffer for the reuser: no release, no new allocation.
          freeAt.delete(b);
          return;
        }
      }
      const id = buffers.length;
      buffers.push({ id, bytes: t.bytes, owner: o });
      keyOf.set(id, t.staticShape ? key(t) : `dynamic:${id}`);
      bufferOf.set(o, id);
      pending.set(id, reads);
      if (outputs.has(o)) pinned.add(id);
      allocs.push(outputs.has(o) ? { kind: "alloc", id, bytes: t.bytes, node: i, output: true } : { kind: "alloc", id, bytes: t.bytes, node: i });
    });
    const scratch = kernelScratchBytes(n, g.tensors);
    if (scratch > 0) {
      const id = buffers.length;
      buffers.push({ id, bytes: scratch, owner: `${n.name || n.op} scratch` });
      allocs.push({ kind: "alloc", id, bytes: scratch, node: i, scratch: true });
      scratchFrees.push({ kind: "free", id, node: i, scratch: true });
    }
    // Release what this node read last (and outputs nobody reads).
    const touched = [...n.inputs.filter((x) => x !== ""), ...n.outputs.filter((o) => o !== "" && (readsOf.get(o) ?? 0) === 0)];
    for (const x of n.inputs) {
      const b = x === "" ? undefined : bufferOf.get(x);
      if (b !== undefined) pending.set(b, pending.get(b)! - 1);
    }
    const released = new Set<number>();
    for (const x of touched) {
      const b = bufferOf.get(x);
      if (b === undefined || pinned.has(b) || released.has(b) || pending.get(b)! > 0) continue;
      released.add(b);
      freeAt.set(b, i);
      freeList.unshift({ id: b, key: keyOf.get(b)! });
    }
  });
  // Per node: its outputs are allocated while it runs, then what it read last is released.
  // The sort is stable: a node's scratch goes back before the inputs it read last.
  const events: BufferEvent[] = [...allocs, ...scratchFrees, ...[...freeAt].map(([id, node]): BufferEvent => ({ kind: "free", id, node }))];
  events.sort((a, b) => a.node - b.node || (a.kind === b.kind ? 0 : a.kind === "alloc" ? -1 : 1));
  return { events, bufferOf, buffers };
}
