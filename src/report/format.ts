/** Number formatting shared by the terminal renderers. */

export { bytes, count } from "../units.js";

export function shape(s: readonly (number | string)[] | null): string {
  return s === null ? "?" : `[${s.join(",")}]`;
}

/** A terminal bar of `width` cells for value/max. */
export function bar(value: number, maxValue: number, width = 30): string {
  if (maxValue <= 0 || value <= 0) return "";
  const cells = Math.max(1, Math.round((value / maxValue) * width));
  return "█".repeat(Math.min(width, cells));
}

/** Left-aligned columns; numeric-looking columns right-aligned. */
export function table(header: string[], rows: string[][]): string {
  // A reduce, not a spread: a million-row table must not overflow the call stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), h.length));
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-\d.,]+( ?[KMGT]?i?B|[KMGT])?$|^\?$|^$/.test(r[i] ?? "")));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** How deep a layer sits in If/Loop/Scan bodies, from its parent path (`If_0/then_branch/If_3/else_branch`). */
export function bodyDepth(parent: string | undefined): number {
  return parent === undefined ? 0 : (parent.match(/(?:^|\/)(?:then_branch|else_branch|body)(?=\/|$)/g) ?? []).length;
}
