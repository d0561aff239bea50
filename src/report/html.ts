/**
 * The HTML renderer: one self-contained page (inline CSS and SVG, no script, no external resource) that
 * draws a Report. The web page (web/app.ts) shows the same sections, so both stay one code path.
 */
import { browserPanel } from "./browser-panel.js";
import { buffersTable, contextChart, isLlamaCppReport } from "./llamacpp-html.js";
import { batchChart, layerChart, liveAtPeakTable, timelineChart, topLayersTable, waterfallChart } from "./charts.js";
import { bytes, count } from "./format.js";
import type { Report } from "../contract/report.js";
import { esc } from "./svg.js";

/** The headline numbers, each with its exact byte count in `data-bytes` (what the browser test reads). */
export function headline(report: Report): string {
  const m = report.memory;
  if (!m) return `<p class="note">No memory estimate for runtime ${esc(report.settings.runtime)}.</p>`;
  const cell = (id: string, label: string, v: number, why: string) =>
    `<div class="kpi"><div class="kpi-label">${esc(label)}</div><div class="kpi-value" data-testid="${id}" data-bytes="${v}">${esc(bytes(v))}</div><div class="kpi-why">${esc(why)}</div></div>`;
  return `<div class="kpis">${[
    cell("peak-allocated", "peak allocated", m.peakAllocated, "weights, inputs, workspace and activations at the peak"),
    // ort-cpu reserves arena regions as address space: RSS (the total) counts only the pages a run writes.
    cell("peak-reserved", "peak reserved", m.peakReserved, m.peakReserved > m.total ? "address space the arena reserves: more than the total, which counts only the pages written" : "what the allocator holds"),
    cell("total", "total", m.total, report.settings.runtime.includes("cuda") ? "the process on the device (nvidia-smi)" : "the process's memory"),
    cell("weights", "weights", m.weights, `${count(report.model.parameters)} parameters`),
  ].join("")}</div>`;
}

export function summaryTable(report: Report): string {
  const md = report.model;
  const s = report.settings;
  const rows: [string, string][] = [
    ["file", md.file],
    ["format", `${md.format}${md.producer ? `, ${md.producer}` : ""}`],
    ["opsets", Object.entries(md.opsets).map(([d, v]) => `${d || "ai.onnx"} ${v}`).join(", ") || "-"],
    ["nodes", md.nodes.toLocaleString("en-US")],
    ["parameters", `${md.parameters.toLocaleString("en-US")} (${bytes(md.weightBytes)} in the file)`],
    ["runtime", `${s.runtime} on ${s.device}, ${s.dtype}, ${s.mode}`],
    ["batch", String(s.batch)],
    ["inputs", Object.entries(s.inputs).map(([k, v]) => `${k} [${v.join(",")}]`).join("; ") || "-"],
  ];
  const dims = Object.entries(s.dims ?? {});
  if (dims.length) rows.push(["dimensions", dims.map(([k, v]) => `${k}=${v}`).join(", ")]);
  const m = report.memory;
  if (m && "fixed" in m.perBatch && m.perBatch.perSample > 0) rows.push(["per batch", `total ≈ ${bytes(m.perBatch.fixed)} + ${bytes(m.perBatch.perSample)} × batch`]);
  else if (m && "formula" in m.perBatch) rows.push(["per batch", m.perBatch.formula]);
  if (m && typeof m.afterRun1 === "number" && typeof m.afterRun2 === "number") rows.push(["process growth", `${bytes(m.afterRun1)} after the first run, ${bytes(m.afterRun2)} after the second`]);
  return `<table class="summary"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</tbody></table>`;
}

/** Warnings listed in the page; a model with thousands (one per unknown node) would otherwise blow the size budget. */
export const MAX_WARNINGS = 200;

export function warningsList(report: Report): string {
  if (report.warnings.length === 0) return `<p class="note" data-testid="warnings">No warnings: every shape was inferred exactly.</p>`;
  const shown = report.warnings.slice(0, MAX_WARNINGS).map((w) => `<li>${esc(w)}</li>`);
  if (report.warnings.length > MAX_WARNINGS) shown.push(`<li>… ${report.warnings.length - MAX_WARNINGS} more (all of them are in analyze --json)</li>`);
  return `<ul class="warnings" data-testid="warnings">${shown.join("")}</ul>`;
}

/** Every section of the report, in reading order; the web page puts these under its controls. */
export function reportSections(report: Report): string {
  const section = (id: string, title: string, body: string) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
  if (isLlamaCppReport(report)) {
    return [
      headline(report),
      section("buffers", "llama.cpp's buffers per device", buffersTable(report)),
      section("context", "Memory against the context length", contextChart(report)),
      section("summary", "Model and settings", summaryTable(report)),
      section("warnings", `Warnings (${report.warnings.length})`, warningsList(report)),
    ].join("\n");
  }
  return [
    headline(report),
    report.browser ? browserPanel(report.browser) : "",
    section("timeline", "Memory through the forward", timelineChart(report) + liveAtPeakTable(report)),
    section("waterfall", "From the weights to the total", waterfallChart(report)),
    section("batch", "Memory against the batch", batchChart(report)),
    section("layers", "Per layer", layerChart(report) + topLayersTable(report)),
    section("summary", "Model and settings", summaryTable(report)),
    section("warnings", `Warnings (${report.warnings.length})`, warningsList(report)),
  ].join("\n");
}

export const REPORT_CSS = `
:root{--fg:#1d1d1f;--muted:#666;--line:#ddd;--bg:#fff;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0 auto;max-width:1000px;padding:16px 20px 48px;line-height:1.4}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.6em 0 .4em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.sub{color:var(--muted);margin:0 0 1em}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:12px 0}
.kpi{border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.kpi-label{font-size:.8em;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.kpi-value{font-size:1.6em;font-weight:600;font-variant-numeric:tabular-nums}.kpi-why{font-size:.78em;color:var(--muted)}
svg{display:block;font-size:11px;overflow:visible}
.grid{stroke:#eee}.axis{stroke:#999}.tick{fill:var(--muted)}.val{fill:var(--fg);font-weight:600}
.hit{fill:transparent}.hit:hover{fill:rgba(0,0,0,.08)}
.peak-line{stroke:#c00;stroke-dasharray:4 3}.peak-dot{fill:#c00;stroke:#fff;stroke-width:2}.peak-label{fill:#c00;font-weight:600;font-size:12px}
.connector{stroke:#888;stroke-dasharray:2 2}.axis-note{fill:#555;font-style:italic}
.device{stroke:#888;stroke-dasharray:6 4}.device-label{fill:#555}.current{stroke:#999;stroke-dasharray:1 3}
.series-total{fill:none;stroke:#444;stroke-width:2}.series-total-dot{fill:#444}
.series-alloc{fill:none;stroke:#e15759;stroke-width:2;stroke-dasharray:5 3}.series-alloc-dot{fill:#e15759}
.browser th{text-align:left;padding-right:12px;vertical-align:top}.browser td{padding:2px 10px 2px 0;vertical-align:top}.fits{color:#1a7f37}.no-fit{color:#b00}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:.85em;color:var(--muted);margin:4px 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend i.dash{background:none;border-top:2px dashed #888;height:0;width:16px;vertical-align:3px}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:8px 0}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top;word-break:break-all}
th{color:var(--muted);font-weight:600}.num{text-align:right;white-space:nowrap;word-break:normal}
table.summary th{width:140px}
table.live{max-width:640px}
.warnings li{margin:2px 0}.note{color:var(--muted);font-size:.9em}
`;

/** The whole document: self-contained, so it opens offline and can be mailed around. */
export function renderHtml(report: Report): string {
  const s = report.settings;
  const title = `memlens: ${report.model.file}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${REPORT_CSS}</style></head>
<body>
<h1>${esc(report.model.file)}</h1>
<p class="sub">${esc(`${s.runtime} on ${s.device}, ${s.dtype}, batch ${s.batch}`)} · ${esc(report.schema)}</p>
${reportSections(report)}
</body></html>
`;
}
