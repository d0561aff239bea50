/**
 * The default `memlens analyze` output: the memory report explained the way a person would, in four parts
 * (activations and their peak, how the batch multiplies them, what the allocator keeps, what the runtime adds),
 * each a number with a bar. A renderer: it only reads the Report.
 */
import type { MemoryReport, Report } from "../contract/report.js";
import { bar, bytes, shape } from "./format.js";
import { renderLlamaCppExplanation } from "./llamacpp-explain.js";
import { memoryRows } from "./rows.js";

const BAR_WIDTH = 32;

export function renderExplanation(report: Report): string {
  const m = report.memory;
  const s = report.settings;
  const inputs = Object.entries(s.inputs).map(([k, v]) => `${k} ${shape(v)}`).join(", ");
  // A CPU runtime's memory depends on the instruction set (src/memory/cpu.ts): name the one assumed.
  const cpu = s.runtime !== "pytorch-cuda" && s.cpu ? ` (${s.cpu}: ${s.cpuFrom ?? "assumed"})` : "";
  const head = `${report.model.file}: ${s.runtime} on ${s.device}${cpu}, ${s.dtype}, batch ${s.batch}${inputs ? ` (${inputs})` : ""}`;
  if (!m) return `${head}\nno memory estimate for this runtime\n`;
  if (s.runtime === "llama.cpp" && Array.isArray(m["buffers"])) return renderLlamaCppExplanation(report);
  const lines: string[] = [head, ""];
  // The rows add up to the total (src/report/rows.ts): nothing the total holds is left unnamed.
  const parts = memoryRows(report);
  const largest = Math.max(...parts.map((p) => p.bytes), m.total);
  const label = Math.max(...parts.map((p) => p.label.length), "total".length);
  for (const { label: name, bytes: value, why } of parts) {
    lines.push(`  ${name.padEnd(label)}  ${bytes(value).padStart(10)}  ${bar(value, largest, BAR_WIDTH).padEnd(BAR_WIDTH)}  ${why}`);
  }
  lines.push(`  ${"total".padEnd(label)}  ${bytes(m.total).padStart(10)}  ${bar(m.total, largest, BAR_WIDTH).padEnd(BAR_WIDTH)}  ${s.runtime === "pytorch-cuda" ? "what the process holds on the device (nvidia-smi)" : "what the process holds in memory"}`);
  lines.push("");
  lines.push(summary(report, m));
  if ("fixed" in m.perBatch && m.perBatch.perSample > 0) {
    lines.push(`batch: total ≈ ${bytes(m.perBatch.fixed)} + ${bytes(m.perBatch.perSample)} × batch`);
  }
  if (typeof m["kvCache"] === "number" && m["kvCache"] > 0) {
    lines.push(`KV cache: ${bytes(m["kvCache"] as number)} of the activations at the last token (2 × layers × kv heads × head dim × tokens × batch × bytes)`);
  }
  const training = m["training"] as Record<string, unknown> | undefined;
  if (training && typeof training["gradients"] === "number") {
    // --mode train: what the step holds beside the activations (src/memory/train/report.ts).
    const t = training as Record<string, number>;
    lines.push(`training (${String(training["optimizer"])}): gradients ${bytes(t["gradients"]!)}, optimizer state ${bytes(t["optimizerState"]!)}, step temporaries ${bytes(t["stepTemporaries"]!)}; ${bytes(t["trainable"]!)} of ${bytes(t["parameters"]!)} parameters trained`);
    const d = m["distributed"] as Record<string, unknown> | undefined;
    if (d && typeof d["total"] === "number") lines.push(`per GPU (${String(d["strategy"])}, ${String(d["gpus"])} GPUs): model states ${bytes(d["total"] as number)}, sharded over ${String(d["shardGroup"])}`);
  }
  if (typeof m.afterRun1 === "number" && typeof m.afterRun2 === "number") {
    lines.push(`process growth: ${bytes(m.afterRun1)} after the first run, ${bytes(m.afterRun2)} after the second`);
  }
  const timeline = report.timeline ?? [];
  if (timeline.length > 0) {
    lines.push("", `live activation memory through the ${training ? "training step" : "forward"} (largest layers):`);
    const top = timeline.reduce((m, t) => Math.max(m, t.liveBytes), 0);
    const shown = timeline
      .map((t, i) => ({ ...t, i }))
      .sort((a, b) => b.liveBytes - a.liveBytes)
      .slice(0, 8)
      .sort((a, b) => a.i - b.i);
    for (const t of shown) lines.push(`  ${bytes(t.liveBytes).padStart(10)}  ${bar(t.liveBytes, top, BAR_WIDTH).padEnd(BAR_WIDTH)}  ${t.layer}`);
  }
  if (report.warnings.length > 0) lines.push("", ...report.warnings.map((w) => `warning: ${w}`));
  return lines.join("\n") + "\n";
}

/** One sentence a person would say. */
function summary(report: Report, m: MemoryReport): string {
  const parts = [
    `weights ${bytes(m.weights)}`,
    `activations peak ${bytes(m.activationPeak)}${m.peakAt.layer ? ` at ${m.peakAt.layer}` : ""}${report.settings.batch > 1 ? ` (batch ${report.settings.batch}: ${bytes(Math.round(m.activationPeak / report.settings.batch))} per sample)` : ""}`,
  ];
  if (report.settings.runtime === "pytorch-cuda") {
    const context = typeof m["cudaContext"] === "number" ? m["cudaContext"] : undefined;
    const runtime = context !== undefined && context < m.runtimeOverhead
      ? `CUDA context ${bytes(context)} + library kernels ${bytes(m.runtimeOverhead - context)}`
      : `CUDA context ${bytes(m.runtimeOverhead)}`;
    // What the total holds in segments (per GPU when training is sharded): the total minus the CUDA runtime.
    parts.push(`allocator keeps ${bytes(m.total - m.runtimeOverhead)} reserved`, runtime);
  }
  parts.push(`total ${bytes(m.total)}`);
  return parts.join("; ");
}
