/**
 * Liveness: which tensors are alive at each step of an execution order, the peak, and what is live at the
 * peak. Pure functions: a runtime profile decides what each step allocates and how long a tensor lives
 * (freed right after its last consumer, or later, as Python references keep eager tensors alive).
 */

import { ModelFormatError } from "../errors.js";

/** One allocation or release, in program order. `step` is the index of the step (layer) it belongs to. */
export type MemEvent =
  | { kind: "alloc"; id: string; bytes: number; step: number }
  | { kind: "free"; id: string; step: number };

export interface LivenessResult {
  /** The highest live byte count reached within each step. */
  timeline: number[];
  peak: number;
  /** Step where the peak is first reached; -1 when nothing is ever allocated. */
  peakStep: number;
  /** Ids live at the peak, largest first. */
  liveAtPeak: string[];
}

/** Folds an event list into the live byte count. `size` maps a request to what it really occupies (rounding). */
export function liveness(events: readonly MemEvent[], steps: number, size: (bytes: number) => number = (b) => b): LivenessResult {
  const timeline = new Array<number>(steps).fill(Number.NaN);
  const endOfStep = new Array<number>(steps).fill(0);
  const live = new Map<string, number>();
  let current = 0;
  let peak = 0;
  let peakStep = -1;
  // The events up to the peak's: the live set there is rebuilt once at the end (sorting it at every new peak
  // was quadratic in a graph whose footprint keeps growing).
  let peakEvents = 0;
  events.forEach((e, k) => {
    if (e.kind === "alloc") {
      // A value allocated twice is a value defined twice: the graph's fault, named as such.
      if (live.has(e.id)) throw new ModelFormatError(`value '${e.id}' is defined twice (two producers, or a node output that is also a graph input)`);
      const b = size(e.bytes);
      live.set(e.id, b);
      current += b;
      if (current > peak) {
        peak = current;
        peakStep = e.step;
        peakEvents = k + 1;
      }
    } else {
      const b = live.get(e.id);
      if (b === undefined) throw new ModelFormatError(`value '${e.id}' is released before it is defined: the graph's order is inconsistent`);
      live.delete(e.id);
      current -= b;
    }
    if (e.step >= 0 && e.step < steps) {
      const t = timeline[e.step]!;
      timeline[e.step] = Number.isNaN(t) ? current : Math.max(t, current);
      endOfStep[e.step] = current;
    }
  });
  const atPeak = new Map<string, number>();
  for (let k = 0; k < peakEvents; k++) {
    const e = events[k]!;
    if (e.kind === "alloc") atPeak.set(e.id, size(e.bytes));
    else atPeak.delete(e.id);
  }
  const liveAtPeak = [...atPeak.entries()].sort((x, y) => y[1] - x[1]).map(([id]) => id);
  // A step with no events of its own holds what was live after the step before it.
  let carried = 0;
  for (let s = 0; s < steps; s++) {
    if (Number.isNaN(timeline[s]!)) timeline[s] = carried;
    else carried = endOfStep[s]!;
  }
  return { timeline, peak, peakStep, liveAtPeak };
}

/**
 * The step after which each tensor can be freed: its last reader, pushed later by `extend` (for example, to
 * the end of the Python scope that still holds a reference). Tensors nobody reads die where they are made,
 * unless they are graph outputs (`keep`), which never die here.
 */
export function lastUses(
  readers: ReadonlyMap<string, readonly number[]>,
  producers: ReadonlyMap<string, number>,
  keep: ReadonlySet<string>,
  extend: (id: string, lastUse: number) => number = (_id, last) => last,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, made] of producers) {
    if (keep.has(id)) {
      out.set(id, Number.POSITIVE_INFINITY);
      continue;
    }
    const r = readers.get(id) ?? [];
    let last = made;
    if (r.length > 0) {
      last = r[0]!;
      for (const x of r) if (x > last) last = x;
    }
    out.set(id, Math.max(made, extend(id, last)));
  }
  return out;
}
