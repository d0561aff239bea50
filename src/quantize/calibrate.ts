/**
 * Calibration: run the float model on sample batches and record the range of every tensor the static
 * quantizer will quantize. The tensors are made graph outputs of a copy of the model, so one run per
 * batch returns them all. min-max keeps the extremes; percentile drops the rarest outliers (a histogram
 * of each tensor over its min-max range, then the values at p% and 100-p%), which gives finer steps to
 * the values that matter when a few activations are far out.
 */
import type { Model } from "../graph/ir.js";
import { encodeModel } from "../formats/onnx/writer.js";
import type { HostTensor } from "../runtime/ort.js";
import type { Range } from "./static-qdq.js";

export type CalibrationMethod = "minmax" | "percentile";

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** Percentile kept at each end (percentile method), e.g. 99.99. */
  percentile: number;
  /** The runtime: a function that runs model bytes on one batch and returns the named outputs. */
  run: (modelBytes: Uint8Array, batches: readonly HostTensor[], outputs: readonly string[], each: (out: Record<string, HostTensor>) => void) => Promise<void>;
}

const BINS = 2048;

/** The model with `tensors` added as graph outputs (float32, shape left to the runtime). */
export function withOutputs(model: Model, tensors: readonly string[]): Model {
  const have = new Set(model.graph.outputs.map((o) => o.name));
  const extra = tensors.filter((t) => !have.has(t)).map((name) => ({ name, type: { kind: "tensor" as const, dtype: "float32" as const, shape: undefined } }));
  return { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra] } };
}

export async function calibrate(model: Model, tensors: readonly string[], batches: readonly HostTensor[], opts: CalibrationOptions): Promise<Map<string, Range>> {
  const bytes = encodeModel(withOutputs(model, tensors));
  const ranges = new Map<string, Range>();
  await opts.run(bytes, batches, tensors, (out) => {
    for (const name of tensors) {
      const t = out[name];
      if (!t || !(t.data instanceof Float32Array)) continue;
      const r = ranges.get(name) ?? { lo: Infinity, hi: -Infinity };
      const d = t.data;
      let lo = r.lo;
      let hi = r.hi;
      for (let i = 0; i < d.length; i++) {
        const v = d[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      ranges.set(name, { lo, hi });
    }
  });
  if (opts.method === "minmax") return ranges;
  // Second pass: histograms over each tensor's full range.
  const hists = new Map<string, Float64Array>();
  await opts.run(bytes, batches, tensors, (out) => {
    for (const name of tensors) {
      const t = out[name];
      const r = ranges.get(name);
      if (!t || !r || !(t.data instanceof Float32Array) || !(r.hi > r.lo)) continue;
      let h = hists.get(name);
      if (!h) hists.set(name, (h = new Float64Array(BINS)));
      const k = BINS / (r.hi - r.lo);
      const d = t.data;
      for (let i = 0; i < d.length; i++) h[Math.min(BINS - 1, Math.floor((d[i]! - r.lo) * k))]!++;
    }
  });
  const out = new Map<string, Range>();
  for (const [name, r] of ranges) {
    const h = hists.get(name);
    out.set(name, h ? percentileRange(h, r, opts.percentile) : r);
  }
  return out;
}

/** The range between the (100-p)% and p% points of a histogram over [r.lo, r.hi]. */
export function percentileRange(h: Float64Array, r: Range, p: number): Range {
  let total = 0;
  for (const c of h) total += c;
  const cut = (total * (100 - p)) / 100;
  const width = (r.hi - r.lo) / h.length;
  let acc = 0;
  let loBin = 0;
  while (loBin < h.length - 1 && acc + h[loBin]! <= cut) acc += h[loBin++]!;
  acc = 0;
  let hiBin = h.length - 1;
  while (hiBin > loBin && acc + h[hiBin]! <= cut) acc += h[hiBin--]!;
  return { lo: r.lo + loBin * width, hi: r.lo + (hiBin + 1) * width };
}
