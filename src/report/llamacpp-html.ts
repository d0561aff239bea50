/**
 * The HTML sections of a llama.cpp report: the buffers per device, and memory against the context length
 * (each point a full estimate at that -c) with the device table's capacities as lines.
 */
import type { LlamaCppBuffer, Report } from "../contract/report.js";
import { bytes } from "./format.js";
import { esc, r, svgOpen } from "./svg.js";

export type { ContextPoint } from "../contract/report.js";
import type { ContextPoint } from "../contract/report.js";

type Buffer = LlamaCppBuffer;

export function isLlamaCppReport(report: Report): boolean {
  return report.settings.runtime === "llama.cpp" && Array.isArray(report.memory?.["buffers"]);
}

export function buffersTable(report: Report): string {
  const buffers = (report.memory?.["buffers"] ?? []) as Buffer[];
  const rows = buffers.map((b) => `<tr><td>${esc(b.device)}</td><td>${esc(b.kind)}</td><td>${esc(b.buffer)}</td><td class="num">${esc(bytes(b.bytes))}${b.unmeasured ? " (unmeasured)" : ""}</td></tr>`);
  const rss = report.memory?.["rss"] as { afterLoad: number; afterContext: number } | undefined;
  const note = rss ? `<p class="note">Process RSS: ${esc(bytes(rss.afterLoad))} after loading, ${esc(bytes(rss.afterContext))} after creating the context.</p>` : "";
  return `<table><thead><tr><th>device</th><th>kind</th><th>llama.cpp buffer</th><th class="num">bytes</th></tr></thead><tbody>${rows.join("")}</tbody></table>${note}`;
}

const W = 720;
const H = 320;
const PAD = { left: 70, right: 150, top: 16, bottom: 36 };

export function contextChart(report: Report): string {
  const pts = (report.memory?.["contextSweep"] ?? []) as ContextPoint[];
  if (pts.length === 0) return `<p class="note">No context sweep in this report.</p>`;
  const devices = report.devices ?? [];
  const vals = [...pts.map((p) => p.total), ...pts.map((p) => p.kv), ...devices.map((d) => d.capacity)].filter((v) => v > 0);
  const lo = Math.log2(Math.min(...vals) / 1.5);
  const hi = Math.log2(Math.max(...vals) * 1.5);
  const cMin = pts[0]!.ctx;
  const cMax = pts[pts.length - 1]!.ctx;
  const x0 = PAD.left;
  const x1 = W - PAD.right;
  const x = (c: number) => x0 + (cMax === cMin ? 0 : (Math.log2(c / cMin) / Math.log2(cMax / cMin)) * (x1 - x0));
  const y = (v: number) => H - PAD.bottom - ((Math.log2(v) - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const parts = [svgOpen(W, H, "memory against context length, with device capacities")];
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let k = Math.ceil(lo); k <= hi; k += every) parts.push(`<line x1="${x0}" x2="${x1}" y1="${r(y(2 ** k))}" y2="${r(y(2 ** k))}" class="grid"/><text x="${x0 - 6}" y="${r(y(2 ** k) + 4)}" class="tick" text-anchor="end">${esc(bytes(2 ** k))}</text>`);
  for (const p of pts) parts.push(`<text x="${r(x(p.ctx))}" y="${H - PAD.bottom + 16}" class="tick" text-anchor="middle">${p.ctx >= 1024 ? `${p.ctx / 1024}k` : p.ctx}</text>`);
  parts.push(`<text x="${r((x0 + x1) / 2)}" y="${H - 4}" text-anchor="middle" class="tick">context (-c, tokens)</text>`);
  for (const d of devices) parts.push(`<line x1="${x0}" x2="${x1}" y1="${r(y(d.capacity))}" y2="${r(y(d.capacity))}" class="device"><title>${esc(`${d.name}: ${bytes(d.capacity)}`)}</title></line><text x="${x1 + 4}" y="${r(y(d.capacity) + 4)}" class="device-label">${esc(d.id)}</text>`);
  for (const [key, cls] of [["total", "series-total"], ["kv", "series-alloc"]] as const) {
    parts.push(`<polyline points="${pts.map((p) => `${r(x(p.ctx))},${r(y(Math.max(1, p[key])))}`).join(" ")}" class="${cls}"/>`);
    parts.push(pts.map((p) => `<circle cx="${r(x(p.ctx))}" cy="${r(y(Math.max(1, p[key])))}" r="3.5" class="${cls}-dot"><title>${esc(`-c ${p.ctx}: ${key === "total" ? "total" : "KV cache"} ${bytes(p[key])}`)}</title></circle>`).join(""));
  }
  parts.push("</svg>");
  return `<div class="legend"><span><i style="background:#444"></i>total</span><span><i style="background:#e15759"></i>KV cache</span><span><i class="dash"></i>device capacity</span></div>${parts.join("")}`;
}
