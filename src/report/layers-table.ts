/** The `memlens layers` table: one row per node. */
import type { Report } from "../contract/report.js";
import { escapeControls } from "../formats/quote.js";
import { bodyDepth, bytes, count, shape, table } from "./format.js";

export function renderLayers(report: Report): string {
  const rows = report.layers.map((l) => {
    const act = l.outputs.reduce<number | null>((s, o) => (s === null || o.bytes === null ? null : s + o.bytes), 0);
    return [
      // Body nodes sit under their If/Loop/Scan, indented one step per nesting level.
      "  ".repeat(bodyDepth(l.parent)) + (l.name ? escapeControls(l.name) : "(unnamed)"), // names come from the file: no raw control characters
      l.op,
      l.outputs.map((o) => shape(o.shape)).join(" "),
      bytes(act),
      l.paramBytes ? bytes(l.paramBytes) : "",
      count(l.flops),
    ];
  });
  const m = report.model;
  const head =
    `${m.file}: ${m.nodes} nodes, ${count(m.parameters)} parameters, ${bytes(m.weightBytes)} of weights` +
    ` (${m.producer || "unknown producer"}, opsets ${Object.entries(m.opsets).map(([d, v]) => `${d || "ai.onnx"} ${v}`).join(", ")})\n` +
    `inputs: ${Object.entries(report.settings.inputs).map(([k, v]) => `${k} ${shape(v)}`).join(", ")}\n`;
  const warn = report.warnings.length ? `\nwarnings:\n${report.warnings.map((w) => `  - ${w}`).join("\n")}\n` : "";
  return head + "\n" + table(["layer", "op", "output shapes", "activation", "params", "FLOPs"], rows) + "\n" + warn;
}
