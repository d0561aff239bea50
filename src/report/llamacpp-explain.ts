/**
 * The explanation of a llama.cpp report: every buffer llama.cpp will allocate, per device, and one sentence
 * with the plain numbers of why the file needs more than its size. A renderer: it only reads the Report.
 */
import type { LlamaCppBuffer, Report } from "../contract/report.js";
import { bar, bytes } from "./format.js";

const BAR_WIDTH = 28;

type Buffer = LlamaCppBuffer;

function why(b: Buffer, l: Record<string, unknown>, report: Report): string {
  const caches = (l["kvCaches"] as { name: string; cells: number; layers: number }[] | undefined) ?? [];
  switch (b.kind) {
    case "model":
      if (b.buffer === "CPU_Mapped") return "weights mapped from the file (not copied; the page cache holds them)";
      if (b.buffer === "CPU_REPACK") return `${String(l["repackedTensors"])} matrices repacked for the CPU's kernels (a copy beside the mapping)`;
      if (b.buffer === "AMX") return "matrices packed for AMX tiles (a copy beside the mapping)";
      if (b.buffer === "CPU") return "weights read into memory (--no-mmap)";
      return "offloaded layers' weights";
    case "kv":
      return `KV cache: ${caches.map((c) => `${c.cells} cells × ${c.layers} layers${c.name === "swa" ? " (sliding window)" : ""}`).join(" + ")}, K ${settingOf(l, "-ctk")} V ${settingOf(l, "-ctv")}`;
    case "output":
      return `logits: ${report.settings.batch} sequence(s) × vocabulary, fp32`;
    default:
      return `the scheduler's reservation for one ubatch of ${String(report.settings.dims?.["ubatch"] ?? "")} tokens (flash attention ${l["flashAttention"] ? "on" : "off"})`;
  }
}

function settingOf(l: Record<string, unknown>, flag: string): string {
  const m = new RegExp(`${flag} (\\S+)`).exec(String(l["flags"] ?? ""));
  return m ? m[1]! : "?";
}

export function renderLlamaCppExplanation(report: Report): string {
  const m = report.memory!;
  const l = (m["llamacpp"] ?? {}) as Record<string, unknown>;
  const buffers = (m["buffers"] ?? []) as Buffer[];
  const s = report.settings;
  const lines = [`${report.model.file}: llama.cpp on ${s.device} (CPU kernels: ${s.cpu}, ${s.cpuFrom ?? "assumed"}), ${s.dtype}, ${String(l["flags"] ?? "")}`, ""];
  const largest = Math.max(...buffers.map((b) => b.bytes), 1);
  const label = Math.max(...buffers.map((b) => `${b.kind} ${b.buffer}`.length), 14);
  for (const b of buffers) {
    const mark = b.unmeasured ? " (unmeasured)" : "";
    lines.push(`  ${`${b.kind} ${b.buffer}`.padEnd(label)}  ${bytes(b.bytes).padStart(10)}  ${bar(b.bytes, largest, BAR_WIDTH).padEnd(BAR_WIDTH)}  ${why(b, l, report)}${mark}`);
  }
  const hostOverhead = Number(l["hostOverhead"] ?? 0);
  lines.push(`  ${"host overhead".padEnd(label)}  ${bytes(hostOverhead).padStart(10)}  ${"".padEnd(BAR_WIDTH)}  the vocabulary's tables and llama.cpp's bookkeeping (measured)`);
  for (const d of (l["devices"] ?? []) as { device: string; bytes: number }[]) {
    lines.push(`  ${`on ${d.device}`.padEnd(label)}  ${bytes(d.bytes).padStart(10)}  ${"".padEnd(BAR_WIDTH)}  buffers on this device`);
  }
  lines.push(`  ${"total".padEnd(label)}  ${bytes(m.total).padStart(10)}  ${"".padEnd(BAR_WIDTH)}  ${s.device === "cpu" ? "host memory once the first prompt has run" : `on ${s.device}, with its CUDA context`}`);
  lines.push("", explainSize(report, buffers, hostOverhead));
  const rss = m["rss"] as { afterLoad: number; afterContext: number } | undefined;
  if (rss) lines.push(`process RSS: ${bytes(rss.afterLoad)} after loading, ${bytes(rss.afterContext)} after creating the context (the output and compute buffers are touched only by the first prompt)`);
  if (report.warnings.length > 0) lines.push("", ...report.warnings.map((w) => `warning: ${w}`));
  return lines.join("\n") + "\n";
}

/** "Why a 4 GB file needs 6 GB", in the buffers' own numbers. */
function explainSize(report: Report, buffers: readonly Buffer[], hostOverhead: number): string {
  const l = (report.memory!["llamacpp"] ?? {}) as Record<string, unknown>;
  const file = Number(l["fileBytes"] ?? report.model.weightBytes);
  const of = (pred: (b: Buffer) => boolean) => buffers.filter(pred).reduce((a, b) => a + b.bytes, 0);
  const weights = of((b) => b.kind === "model" && b.buffer !== "CPU_REPACK" && b.buffer !== "AMX");
  const repack = of((b) => b.kind === "model" && (b.buffer === "CPU_REPACK" || b.buffer === "AMX"));
  const kv = of((b) => b.kind === "kv");
  const compute = of((b) => b.kind === "compute" || b.kind === "output");
  const all = weights + repack + kv + compute + hostOverhead;
  const parts = [`weights ${bytes(weights)}`];
  if (repack > 0) parts.push(`repacked copies ${bytes(repack)}`);
  parts.push(`KV cache ${bytes(kv)} (${String(l["nCtx"])} tokens of context)`, `compute and logits ${bytes(compute)}`, `host overhead ${bytes(hostOverhead)}`);
  return `why a ${bytes(file)} file needs ${bytes(all)}: ${parts.join(" + ")}`;
}
