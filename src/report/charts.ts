/**
 * The report's charts as SVG strings: the memory timeline, per-layer bars, the waterfall from weights to
 * the total, and memory against the batch. Each reads the Report and nothing else; the only arithmetic is
 * splitting the report's own totals into the parts a chart stacks.
 */
import { bytes } from "./format.js";
import type { MemoryReport, Report } from "../contract/report.js";
import { byteTicks, COLORS, esc, legend, r, svgOpen, yGrid, type Category } from "./svg.js";
import { memoryRows } from "./rows.js";

const W = 960;
const PAD = { left: 78, right: 16, top: 22, bottom: 34 };

/**
 * At most this many columns per chart: wider than the plot has pixels for, and it keeps a 20,000-layer
 * model's page under the 1 MB budget. Beyond it consecutive layers share a column that shows their largest.
 */
export const MAX_COLUMNS = 480;

export interface Column {
  /** Layers [from, to) in this column. */
  from: number;
  to: number;
  /** The index of the largest value among them. */
  top: number;
}

export function columns(values: readonly number[], max = MAX_COLUMNS): Column[] {
  const n = values.length;
  const per = Math.max(1, Math.ceil(n / max));
  const out: Column[] = [];
  for (let from = 0; from < n; from += per) {
    const to = Math.min(n, from + per);
    let top = from;
    for (let i = from + 1; i < to; i++) if (values[i]! > values[top]!) top = i;
    out.push({ from, to, top });
  }
  return out;
}

/** The largest value (0 for none), without spreading a 100,000-element array into arguments. */
export function maxOf(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

const span = (c: Column) => (c.to - c.from > 1 ? `layers #${c.from}-#${c.to - 1}, largest ` : `#${c.from} `);

/**
 * Memory the runtime holds for the whole forward besides weights and inputs (cuBLAS workspace, the previous
 * forward's output): the report's peak allocation minus the parts it names. Zero for runtimes without one.
 */
export function heldThroughForward(m: MemoryReport): number {
  if (m.workspace <= 0) return 0;
  return Math.max(0, m.peakAllocated - m.weights - m.inputs - m.activationPeak);
}

/**
 * Timeline index of the peak: the layer the report names (the runtime knows where, within a step, its peak
 * falls), the largest such point when the name repeats; else the timeline's largest point.
 */
export function peakIndex(report: Report): number {
  const t = report.timeline ?? [];
  const named = report.memory?.peakAt.layer;
  const largest = (ok: (layer: string) => boolean) => {
    let best = -1;
    t.forEach((p, i) => {
      if (ok(p.layer) && (best < 0 || p.liveBytes > t[best]!.liveBytes)) best = i;
    });
    return best;
  };
  const at = named ? largest((l) => l === named) : -1;
  return at >= 0 ? at : largest(() => true);
}

/**
 * The timeline's y axis: from 0, unless the fixed bands dwarf the activations (an LLM's weights are 100x
 * its activations), then from a round value a little below the activations so their shape stays visible.
 */
export function axis(fixed: number, act: number): { ticks: number[]; lo: number; hi: number } {
  if (!(act > 0 && act < 0.1 * (fixed + act))) {
    const ticks = byteTicks((fixed + act) * 1.08);
    return { ticks, lo: 0, hi: Math.max(ticks[ticks.length - 1]!, (fixed + act) * 1.08) };
  }
  const hi = fixed + act * 1.3;
  const probe = byteTicks(hi - (fixed - 2 * act));
  const stepSize = probe.length > 1 ? probe[1]! - probe[0]! : act;
  const lo = Math.max(0, Math.floor((fixed - 2 * act) / stepSize) * stepSize);
  const ticks: number[] = [];
  for (let v = lo; v <= hi; v += stepSize) ticks.push(v);
  return { ticks, lo, hi };
}

export function timelineChart(report: Report): string {
  const m = report.memory;
  const t = report.timeline ?? [];
  if (!m || t.length === 0) return `<p class="note">No timeline: the runtime profile gave no per-layer memory.</p>`;
  const H = 320;
  const held = heldThroughForward(m);
  const base: [Category, string, number][] = [
    ["weights", "weights", m.weights],
    ["inputs", "inputs", m.inputs],
    ["workspace", "workspace & kept buffers", held],
  ];
  const fixed = base.reduce((a, b) => a + b[2], 0);
  const act = maxOf(t.map((p) => p.liveBytes));
  const top = fixed + act;
  const { ticks, lo, hi: yMax } = axis(fixed, act);
  const x0 = PAD.left;
  const x1 = W - PAD.right;
  const cols = columns(t.map((p) => p.liveBytes));
  const step = (x1 - x0) / cols.length;
  const y = (v: number) => H - PAD.bottom - ((Math.max(v, lo) - lo) / (yMax - lo)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [svgOpen(W, H, "memory timeline, stacked by category"), yGrid(ticks, y, x0, x1)];
  let below = 0;
  for (const [cat, label, v] of base) {
    if (v <= 0) continue;
    if (below + v > lo) parts.push(`<rect x="${r(x0)}" y="${r(y(below + v))}" width="${r(x1 - x0)}" height="${r(y(below) - y(below + v))}" fill="${COLORS[cat]}"><title>${esc(`${label}: ${bytes(v)} through the forward`)}</title></rect>`);
    below += v;
  }
  if (lo > 0) parts.push(`<text x="${r(x0 + 6)}" y="${H - PAD.bottom - 6}" class="axis-note">axis starts at ${esc(bytes(lo))}: the bands below it are cut so the activations show</text>`);
  // Activations as one stepped area over the fixed bands.
  let d = `M${r(x0)} ${r(y(fixed))}`;
  cols.forEach((c, i) => {
    d += `V${r(y(fixed + t[c.top]!.liveBytes))}H${r(x0 + (i + 1) * step)}`;
  });
  d += `V${r(y(fixed))}Z`;
  parts.push(`<path d="${d}" fill="${COLORS.activations}"/>`);
  // Hover targets: one per column.
  cols.forEach((c, i) => {
    const p = t[c.top]!;
    parts.push(`<rect x="${r(x0 + i * step)}" y="${PAD.top}" width="${r(Math.max(step, 0.5))}" height="${H - PAD.top - PAD.bottom}" class="hit"><title>${esc(`${span(c)}${p.layer}: activations ${bytes(p.liveBytes)}, allocated ${bytes(fixed + p.liveBytes)}`)}</title></rect>`);
  });
  // The peak's dot sits on the top of the bar drawn for its column, and its label says the value drawn there
  // (fixed bands + the column's activations), so the label and the bars cannot disagree.
  const pi = peakIndex(report);
  const pc = Math.max(0, cols.findIndex((c) => pi >= c.from && pi < c.to));
  const peakP = t[cols[pc]!.top]!;
  const px = x0 + (pc + 0.5) * step;
  const drawn = fixed + peakP.liveBytes;
  const py = y(drawn);
  const anchor = px > W * 0.6 ? "end" : "start";
  const dx = anchor === "end" ? -8 : 8;
  parts.push(
    `<line x1="${r(px)}" x2="${r(px)}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="peak-line"/>`,
    `<circle cx="${r(px)}" cy="${r(py)}" r="5" class="peak-dot"/>`,
    `<text x="${r(px + dx)}" y="${r(Math.max(PAD.top + 12, py - 8))}" text-anchor="${anchor}" class="peak-label" data-testid="timeline-peak">peak ${esc(bytes(drawn))} allocated at ${esc(peakP.layer)}</text>`,
    `<text x="${r((x0 + x1) / 2)}" y="${H - 8}" text-anchor="middle" class="tick">layers in execution order (${t.length})</text>`,
    `</svg>`,
  );
  const items: [Category, string][] = [["weights", "weights"], ["inputs", "inputs"]];
  if (held > 0) items.push(["workspace", "workspace & kept buffers (cuBLAS workspace, the previous output)"]);
  items.push(["activations", "activations (with each op's scratch)"]);
  return legend(items) + parts.join("");
}

/** The tensors live at the peak, with their sizes when a layer output has that name. */
export function liveAtPeakTable(report: Report): string {
  const m = report.memory;
  if (!m) return "";
  const size = new Map<string, number>();
  for (const l of report.layers) for (const o of l.outputs) if (o.bytes !== null) size.set(o.name, o.bytes);
  const live = m.peakAt.live;
  if (live.length === 0) return `<p class="note">The runtime profile lists no tensors at the peak (${esc(report.settings.runtime)}).</p>`;
  const rows = live.slice(0, 40).map((id) => {
    const b = size.get(id);
    return `<tr><td>${esc(id)}</td><td class="num">${b === undefined ? "" : esc(bytes(b))}</td></tr>`;
  });
  const more = live.length > 40 ? `<tr><td colspan="2">… ${live.length - 40} more</td></tr>` : "";
  return `<table class="live"><thead><tr><th>live at the peak (${live.length}), largest first</th><th class="num">output size</th></tr></thead><tbody>${rows.join("")}${more}</tbody></table>`;
}

/** Activation bytes (outputs) above the axis and parameter bytes below, one column per layer. */
export function layerChart(report: Report): string {
  const ls = report.layers;
  if (ls.length === 0) return `<p class="note">The model has no layers.</p>`;
  const H = 260;
  const act = ls.map((l) => l.outputs.reduce((a, o) => a + (o.bytes ?? 0), 0));
  const par = ls.map((l) => l.paramBytes);
  const maxA = Math.max(1, maxOf(act));
  const maxP = Math.max(1, maxOf(par));
  const x0 = PAD.left;
  const x1 = W - PAD.right;
  const mid = PAD.top + (H - PAD.top - PAD.bottom) * 0.62;
  const upH = mid - PAD.top;
  const downH = H - PAD.bottom - mid;
  const cols = columns(act);
  const step = (x1 - x0) / cols.length;
  const w = Math.max(step * 0.8, 0.4);
  const parts: string[] = [svgOpen(W, H, "activation and parameter bytes per layer")];
  parts.push(
    `<text x="${r(x0 - 6)}" y="${PAD.top + 4}" class="tick" text-anchor="end">${esc(bytes(maxA))}</text>`,
    maxOf(par) > 0
      ? `<text x="${r(x0 - 6)}" y="${H - PAD.bottom}" class="tick" text-anchor="end">${esc(bytes(maxP))}</text>`
      : `<text x="${r(x0 + 6)}" y="${r(mid + 16)}" class="axis-note">this report gives no parameter bytes per layer</text>`,
    `<line x1="${x0}" x2="${x1}" y1="${r(mid)}" y2="${r(mid)}" class="axis"/>`,
  );
  cols.forEach((c, i) => {
    const x = x0 + i * step;
    // Parameters: the column's largest too (a merged column shows both maxima, named in its tooltip).
    let pTop = c.from;
    for (let k = c.from; k < c.to; k++) if (par[k]! > par[pTop]!) pTop = k;
    const l = ls[c.top]!;
    const more = c.to - c.from > 1 ? `; largest parameters ${bytes(par[pTop]!)} (${ls[pTop]!.name})` : `, parameters ${bytes(par[c.top]!)}`;
    const title = `<title>${esc(`${span(c)}${l.name} (${l.op}): outputs ${bytes(act[c.top]!)}${more}`)}</title>`;
    const a = (act[c.top]! / maxA) * upH;
    const p = (par[pTop]! / maxP) * downH;
    if (a > 0) parts.push(`<rect x="${r(x)}" y="${r(mid - a)}" width="${r(w)}" height="${r(Math.max(a, 0.5))}" fill="${COLORS.activations}">${title}</rect>`);
    if (p > 0) parts.push(`<rect x="${r(x)}" y="${r(mid)}" width="${r(w)}" height="${r(Math.max(p, 0.5))}" fill="${COLORS.params}">${title}</rect>`);
  });
  parts.push(`<text x="${r((x0 + x1) / 2)}" y="${H - 8}" text-anchor="middle" class="tick">layers in graph order (${ls.length})</text></svg>`);
  const items: [Category, string][] = [["activations", "output bytes (up)"], ["params", "parameter bytes (down)"]];
  return legend(items) + parts.join("");
}

/** The largest layers by output bytes, as a table. */
export function topLayersTable(report: Report, n = 12): string {
  const rows = report.layers
    .map((l) => ({ l, out: l.outputs.reduce((a, o) => a + (o.bytes ?? 0), 0) }))
    .sort((a, b) => b.out - a.out)
    .slice(0, n)
    .map(({ l, out }) => {
      const shapes = l.outputs.map((o) => (o.shape ? `[${o.shape.join(",")}]` : "?")).join(" ");
      return `<tr><td>${esc(l.name)}</td><td>${esc(l.op)}</td><td>${esc(shapes)}</td><td class="num">${esc(bytes(out))}</td><td class="num">${esc(bytes(l.paramBytes))}</td></tr>`;
    });
  return `<table><thead><tr><th>largest layers</th><th>op</th><th>output shape</th><th class="num">outputs</th><th class="num">parameters</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export interface WaterfallStep {
  label: string;
  value: number;
  category: Category;
  why: string;
}

/**
 * The steps from the first row to the total: the report's rows (src/report/rows.ts), which add up to the
 * total, so every bar is a part of it and none is negative.
 */
export function waterfallSteps(report: Report): WaterfallStep[] {
  return memoryRows(report).map((row) => ({ label: row.label, value: row.bytes, category: row.category, why: row.why }));
}

export function waterfallChart(report: Report): string {
  const m = report.memory;
  if (!m) return `<p class="note">No memory estimate for runtime ${esc(report.settings.runtime)}.</p>`;
  const steps = waterfallSteps(report);
  const H = 300;
  let run = 0;
  let high = 0;
  const bars = steps.map((s) => {
    const from = run;
    run += s.value;
    high = Math.max(high, from, run);
    return { ...s, from, to: run };
  });
  high = Math.max(high, m.total);
  const ticks = byteTicks(high * 1.05);
  const yMax = Math.max(ticks[ticks.length - 1]!, high * 1.05);
  const x0 = PAD.left;
  const x1 = W - PAD.right;
  const slot = (x1 - x0) / (bars.length + 1);
  const y = (v: number) => H - PAD.bottom - 14 - (v / yMax) * (H - PAD.top - PAD.bottom - 14);
  const parts: string[] = [svgOpen(W, H, "waterfall from weights to the total"), yGrid(ticks, y, x0, x1)];
  const bar = (i: number, from: number, to: number, color: string, label: string, title: string, testid?: string) => {
    const x = x0 + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const top = y(Math.max(from, to));
    const h = Math.max(1, Math.abs(y(from) - y(to)));
    return (
      `<rect x="${r(x)}" y="${r(top)}" width="${r(w)}" height="${r(h)}" fill="${color}"><title>${esc(title)}</title></rect>` +
      `<text x="${r(x + w / 2)}" y="${r(top - 4)}" text-anchor="middle" class="val"${testid ? ` data-testid="${testid}"` : ""}>${esc(bytes(to - from))}</text>` +
      `<text x="${r(x + w / 2)}" y="${H - PAD.bottom + 4}" text-anchor="middle" class="tick">${esc(label)}</text>`
    );
  };
  bars.forEach((b, i) => {
    parts.push(bar(i, b.from, b.to, COLORS[b.category], b.label, `${b.label}: ${bytes(b.value)}: ${b.why}`));
    if (i + 1 < bars.length) {
      const xa = x0 + i * slot + slot * 0.85;
      parts.push(`<line x1="${r(xa)}" x2="${r(xa + slot * 0.3)}" y1="${r(y(b.to))}" y2="${r(y(b.to))}" class="connector"/>`);
    }
  });
  parts.push(bar(bars.length, 0, m.total, COLORS.total, "total", `total: ${bytes(m.total)} the process holds`, "waterfall-total"));
  parts.push(`</svg>`);
  return parts.join("");
}

/** Total memory against the batch (log-log) with each device's capacity as a line. */
export function batchChart(report: Report): string {
  const sweep = report.batchSweep;
  const pts = sweep?.points ?? [];
  if (pts.length === 0) return `<p class="note">${esc(sweep?.stoppedAt ? `No batch sweep: ${sweep.stoppedAt.reason}` : "No batch sweep in this report.")}</p>`;
  const gpu = report.settings.device !== "cpu";
  const devices = gpu ? report.devices ?? [] : [];
  const H = 340;
  const vals = [...pts.map((p) => p.total), ...pts.map((p) => p.peakAllocated), ...devices.map((d) => d.capacity)].filter((v) => v > 0);
  const lo = Math.log2(Math.min(...vals) / 1.5);
  const hi = Math.log2(Math.max(...vals) * 1.5);
  const bMax = Math.max(2, ...pts.map((p) => p.batch), sweep?.stoppedAt?.batch ?? 1);
  const x0 = PAD.left;
  const x1 = W - 150;
  const x = (b: number) => x0 + (Math.log2(b) / Math.log2(bMax)) * (x1 - x0);
  const y = (v: number) => H - PAD.bottom - ((Math.log2(v) - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [svgOpen(W, H, "memory against batch size, with device capacities")];
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let k = Math.ceil(lo); k <= hi; k += every) {
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${r(y(2 ** k))}" y2="${r(y(2 ** k))}" class="grid"/><text x="${x0 - 6}" y="${r(y(2 ** k) + 4)}" class="tick" text-anchor="end">${esc(bytes(2 ** k))}</text>`);
  }
  for (let b = 1; b <= bMax; b *= 2) parts.push(`<text x="${r(x(b))}" y="${H - PAD.bottom + 16}" class="tick" text-anchor="middle">${b}</text>`);
  parts.push(`<text x="${r((x0 + x1) / 2)}" y="${H - 4}" text-anchor="middle" class="tick">batch</text>`);
  for (const d of devices) {
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${r(y(d.capacity))}" y2="${r(y(d.capacity))}" class="device"><title>${esc(`${d.name}: ${bytes(d.capacity)}`)}</title></line>`);
  }
  // Device names stacked at the right, nudged apart where capacities are close.
  let lastY = -Infinity;
  for (const d of [...devices].sort((a, b) => b.capacity - a.capacity)) {
    const ly = Math.max(y(d.capacity) + 4, lastY + 12);
    lastY = ly;
    parts.push(`<text x="${x1 + 6}" y="${r(ly)}" class="device-label">${esc(`${d.id} ${bytes(d.capacity)}`)}</text>`);
  }
  const line = (key: "total" | "peakAllocated", cls: string) =>
    `<polyline points="${pts.map((p) => `${r(x(p.batch))},${r(y(p[key]))}`).join(" ")}" class="${cls}"/>` +
    pts.map((p) => `<circle cx="${r(x(p.batch))}" cy="${r(y(p[key]))}" r="3.5" class="${cls}-dot"><title>${esc(`batch ${p.batch}: ${key === "total" ? "total" : "peak allocated"} ${bytes(p[key])}`)}</title></circle>`).join("");
  parts.push(line("peakAllocated", "series-alloc"), line("total", "series-total"));
  const cur = report.settings.batch;
  if (cur >= 1 && cur <= bMax) parts.push(`<line x1="${r(x(cur))}" x2="${r(x(cur))}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="current"><title>batch ${cur} (this report)</title></line>`);
  parts.push(`</svg>`);
  const notes: string[] = [];
  if (sweep?.stoppedAt) notes.push(`<p class="note">Sweep stopped at batch ${sweep.stoppedAt.batch}: ${esc(sweep.stoppedAt.reason)}</p>`);
  return `<div class="legend"><span><i style="background:${COLORS.total}"></i>total (process)</span><span><i style="background:${COLORS.activations}"></i>peak allocated</span>${gpu ? `<span><i class="dash"></i>device capacity</span>` : ""}</div>${parts.join("")}${notes.join("")}${gpu ? fitsTable(report) : ""}`;
}

/** For each device, the largest swept batch whose total fits its capacity. */
function fitsTable(report: Report): string {
  const pts = report.batchSweep?.points ?? [];
  const rows = (report.devices ?? []).map((d) => {
    const fit = pts.filter((p) => p.total <= d.capacity).map((p) => p.batch);
    const best = fit.length ? Math.max(...fit) : undefined;
    const last = pts[pts.length - 1];
    const more = best !== undefined && last && best === last.batch ? " or more" : "";
    return `<tr><td>${esc(d.name)}</td><td class="num">${esc(bytes(d.capacity))}</td><td class="num">${best === undefined ? "none of the swept batches" : `${best}${more}`}</td></tr>`;
  });
  return `<table><thead><tr><th>device</th><th class="num">capacity</th><th class="num">largest swept batch that fits (powers of two; totals as on ${esc(report.settings.device)})</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}
