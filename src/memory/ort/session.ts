/**
 * Two runs of an ORT CPU session, replayed on the arena: the first run allocates every planned buffer
 * from the BFC arena as the nodes execute (and the memory pattern planner traces them); the second run
 * asks the arena for one block of the traced pattern's peak size and places every tensor inside it.
 * The arena keeps what the first run grew, so a pattern block that fits no free chunk extends it again:
 * that is why the second run adds about as much memory as the first. Kernel scratch (scratch.ts) and the
 * session's outputs are outside the pattern: both runs take them from the arena as the kernels run, the
 * second run while the pattern's block is held.
 */
import { BfcArena, DEFAULT_ARENA, type ArenaBlock, type ArenaConfig } from "./arena.js";
import { planMemoryPattern, type TraceEvent } from "./pattern.js";
import type { AllocationPlan } from "./planner.js";

/** A tensor's traced size is its bytes rounded up to kAllocAlignment (core/framework/allocator.h: 256 in
 *  ORT 1.30; ExecutionFrame sizes buffers with CalcMemSizeForArrayWithAlignment<kAllocAlignment>). */
export const ORT_ALLOC_ALIGNMENT = 256;

export interface SessionRuns {
  /** Arena bytes written by the end of run 1 (page granularity). */
  run1Touched: number;
  run2Touched: number;
  /** Largest sum of live buffers during run 1 (arena chunk sizes: rounding and unsplit chunks included). */
  run1PeakInUse: number;
  /** Largest sum of live buffer bytes during run 1 (while a node runs: its inputs and outputs). */
  run1PeakLive: number;
  patternPeak: number;
  arenaReserved: number;
  /** The node index at which run 1's live bytes peak. */
  peakNode: number;
  /** Live buffer bytes after each node (run 1). */
  liveAfterNode: number[];
}

export function simulateRuns(plan: AllocationPlan, nodeCount: number, memPattern = true, config: ArenaConfig = DEFAULT_ARENA): SessionRuns {
  const arena = new BfcArena(config);
  const trace: TraceEvent[] = [];
  const handles = new Map<number, ArenaBlock>();
  const sizes = new Map<number, number>();
  const liveAfterNode = new Array<number>(nodeCount).fill(0);
  let live = 0;
  let peak = 0;
  let peakNode = 0;
  let cursor = 0;
  const runNode = (i: number) => {
    for (; cursor < plan.events.length && plan.events[cursor]!.node <= i; cursor++) {
      const e = plan.events[cursor]!;
      if (e.kind === "alloc") {
        if (e.bytes === 0) continue;
        handles.set(e.id, arena.alloc(e.bytes));
        sizes.set(e.id, e.bytes);
        // ExecutionFrame::TraceAllocate skips kAllocateOutput values (the session's outputs) and scratch is
        // not a value: neither is in the pattern.
        if (!e.scratch && !e.output) trace.push({ kind: "alloc", id: e.id, bytes: Math.ceil(e.bytes / ORT_ALLOC_ALIGNMENT) * ORT_ALLOC_ALIGNMENT });
        live += e.bytes;
        if (live > peak) {
          peak = live;
          peakNode = e.node;
        }
      } else {
        const h = handles.get(e.id);
        if (!h) continue;
        arena.free(h);
        handles.delete(e.id);
        live -= sizes.get(e.id)!;
        if (!e.scratch) trace.push({ kind: "free", id: e.id });
      }
    }
    liveAfterNode[i] = live;
  };
  for (let i = 0; i < nodeCount; i++) runNode(i);
  const run1Touched = arena.touchedPages;
  const run1PeakInUse = arena.peakInUse;
  // The session's outputs go to the caller; what stays in the arena is released before the next run.
  for (const h of handles.values()) arena.free(h);
  const pattern = planMemoryPattern(trace);
  if (memPattern && pattern.peak > 0) {
    const block = arena.alloc(pattern.peak);
    // Outside the block: scratch as the kernels run, and the outputs (kAllocateOutput), held to the end.
    const outside = new Map<number, ArenaBlock>();
    for (const e of plan.events) {
      if (e.kind === "alloc" && (e.scratch || e.output)) {
        if (e.bytes > 0) outside.set(e.id, arena.alloc(e.bytes));
      } else if (e.kind === "free" && e.scratch) arena.free(outside.get(e.id)!);
    }
    arena.free(block);
  } else {
    handles.clear();
    cursor = 0;
    for (let i = 0; i < nodeCount; i++) runNode(i);
  }
  return { run1Touched, run2Touched: arena.touchedPages, run1PeakInUse, run1PeakLive: peak, patternPeak: pattern.peak, arenaReserved: arena.reserved, peakNode, liveAfterNode };
}
