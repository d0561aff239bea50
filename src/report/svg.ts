/**
 * Small helpers for hand-written SVG charts: escaping, axis ticks on byte scales, colours per memory
 * category. Pure string building, so the same charts render in Node (the HTML report) and the browser.
 */
import { bytes } from "./format.js";

/** Escapes text for HTML and SVG content and attribute values (layer names come from untrusted files). */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds coordinates so the markup stays small. */
export function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** One colour per memory category, the same in every chart and legend. */
export const COLORS = {
  weights: "#4e79a7",
  inputs: "#f28e2b",
  workspace: "#76b7b2",
  activations: "#e15759",
  reserve: "#bab0ac",
  runtime: "#59a14f",
  other: "#edc948",
  total: "#444",
  params: "#9c755f",
} as const;

export type Category = keyof typeof COLORS;

const KiB = 1024;

/** 1, 2, 5 x a binary unit, so byte ticks read as round MiB/GiB. */
export function byteTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const unit = max >= KiB ** 3 ? KiB ** 3 : max >= KiB ** 2 ? KiB ** 2 : max >= KiB ? KiB : 1;
  const raw = max / unit / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag) * unit;
  const ticks: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) ticks.push(v);
  return ticks;
}

/** Horizontal grid lines with byte labels on the left of a plot area. */
export function yGrid(ticks: number[], y: (v: number) => number, x0: number, x1: number): string {
  return ticks
    .map((t) => `<line x1="${r(x0)}" x2="${r(x1)}" y1="${r(y(t))}" y2="${r(y(t))}" class="grid"/><text x="${r(x0 - 6)}" y="${r(y(t) + 4)}" class="tick" text-anchor="end">${esc(bytes(t))}</text>`)
    .join("");
}

export function legend(items: [Category, string][]): string {
  return `<div class="legend">${items.map(([c, label]) => `<span><i style="background:${COLORS[c]}"></i>${esc(label)}</span>`).join("")}</div>`;
}

export function svgOpen(width: number, height: number, label: string): string {
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(label)}">`;
}
