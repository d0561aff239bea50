/**
 * ONNX Runtime's memory pattern planner (onnxruntime/core/framework/mem_pattern_planner.h): the first run
 * traces every tensor allocation and free; each traced block gets an offset in one buffer, the
 * best-fitting gap between blocks that are live at that moment, else right after the last live block.
 * Later runs with the same input shapes allocate that buffer once (its peak size) and place tensors at
 * their offsets.
 */

export type TraceEvent = { kind: "alloc"; id: number; bytes: number } | { kind: "free"; id: number };

export interface MemoryPattern {
  peak: number;
  offsets: Map<number, { offset: number; bytes: number }>;
}

export function planMemoryPattern(trace: readonly TraceEvent[]): MemoryPattern {
  /** Live blocks ordered by offset. */
  let live: { id: number; offset: number; bytes: number }[] = [];
  const offsets = new Map<number, { offset: number; bytes: number }>();
  let peak = 0;
  for (const e of trace) {
    if (e.kind === "free") {
      live = live.filter((b) => b.id !== e.id);
      continue;
    }
    if (e.bytes === 0) {
      offsets.set(e.id, { offset: 0, bytes: 0 });
      continue;
    }
    const last = live[live.length - 1];
    let bestOffset = last ? last.offset + last.bytes : 0;
    let bestIndex = live.length;
    let waste = Infinity;
    let current = 0;
    live.forEach((b, i) => {
      if (b.offset >= current) {
        const gap = b.offset - current;
        if (gap >= e.bytes && gap - e.bytes < waste) {
          waste = gap - e.bytes;
          bestOffset = current;
          bestIndex = i;
        }
      }
      current = Math.max(current, b.offset + b.bytes);
    });
    peak = Math.max(peak, bestOffset + e.bytes);
    const block = { id: e.id, offset: bestOffset, bytes: e.bytes };
    live.splice(bestIndex, 0, block);
    offsets.set(e.id, { offset: bestOffset, bytes: e.bytes });
  }
  return { peak, offsets };
}
