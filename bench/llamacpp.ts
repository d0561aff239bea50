/**
 * bench:llamacpp: memlens's llama.cpp runtime against real llama.cpp, buffer by buffer, with node-llama-cpp's
 * own estimator (GgufInsights) beside it.
 *
 *   npm run bench:llamacpp             measure now (bench/llamacpp-measure.ts), then compare
 *   npm run bench:llamacpp -- --stored compare with the committed measurements only
 *
 * Writes bench/LLAMACPP-ACCURACY.md. The GGUFs are rewritten from the writer when missing (same seed, same bytes).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LlamaBuffer } from "../src/memory/llamacpp/estimate.js";
import { estimate } from "../src/pipeline/estimate.js";
import type { EstimateSettings } from "../src/pipeline/settings.js";
import type { GgufSource } from "../src/pipeline/source.js";
import { openGguf } from "../src/pipeline/source-node.js";
import { BENCH_MODELS, HELDOUT_MODELS, type LlamaSetting } from "./llamacpp-models.js";
import { logMiB, type MeasuredBuffer } from "./llamacpp-parse.js";
import { ensureGguf, measureAll, type GroundTruth, type GroundTruthRun } from "./llamacpp-measure.js";

const MiB = 2 ** 20;

export interface Row {
  model: string;
  flags: string;
  kind: string;
  buffer: string;
  measured: number;
  memlens: number;
  peer: number | undefined;
  /**
   * Whether memlens equals the measurement: to the byte where the harness saw the buffer's allocation (measure.c
   * ALLOC lines), else at the log's precision (MiB with 2 decimals; `atLog`).
   */
  exact?: boolean;
  atLog?: boolean;
}

/** A size as llama.cpp logs it (bench/llamacpp-parse.ts logMiB). */
export const logRounded = logMiB;

/** A measured setting as memlens's one settings object: the CPU backend measured (AVX-512: CPU_REPACK), no GPU. */
export function benchSettings(s: LlamaSetting): EstimateSettings {
  return { runtime: "llama.cpp", device: "cpu", cpu: "avx512", llamacpp: { ...s, gpuLayers: 0 } };
}

/** What the bench compares, from the one pipeline's Report (memory.buffers, memory.rss). */
export function benchEstimate(source: GgufSource, s: LlamaSetting): { buffers: LlamaBuffer[]; rss: { afterLoad: number; afterContext: number; afterPrompt?: number } } {
  const m = estimate(source, benchSettings(s)).memory!;
  return { buffers: m["buffers"] as LlamaBuffer[], rss: m["rss"] as { afterLoad: number; afterContext: number; afterPrompt?: number } };
}

/** A measured buffer's size: its allocation's bytes where seen, else the logged MiB; and how memlens compares. */
function sized(b: MeasuredBuffer, predicted: number): { measured: number; exact: boolean; atLog?: boolean } {
  if (b.bytes !== undefined) return { measured: b.bytes, exact: predicted === b.bytes };
  return { measured: b.mib * MiB, exact: logRounded(predicted) === b.mib, atLog: true };
}

export function compareRun(run: GroundTruthRun): Row[] {
  const model = [...BENCH_MODELS, ...HELDOUT_MODELS].find((m) => m.id === run.model);
  if (!model) throw new Error(`unknown bench model ${run.model}`);
  const { path } = ensureGguf(model);
  const est = benchEstimate({ ...openGguf(path), fileBytes: run.fileBytes }, run.setting);
  const rows: Row[] = [];
  const peer = "error" in run.peer ? undefined : run.peer;
  const measured = run.measured.buffers;
  const modelMeasured = measured.filter((b) => b.kind === "model");
  for (const b of modelMeasured) {
    const p = est.buffers.find((x) => x.kind === "model" && x.buffer === b.buffer);
    const pb = p?.bytes ?? 0;
    rows.push({ model: run.model, flags: run.flags, kind: "model", buffer: b.buffer, memlens: pb, peer: undefined, ...sized(b, pb) });
  }
  const modelSum = modelMeasured.reduce((s, b) => s + (b.bytes ?? b.mib * MiB), 0);
  rows.push({ model: run.model, flags: run.flags, kind: "model total", buffer: "all", measured: modelSum, memlens: est.buffers.filter((b) => b.kind === "model").reduce((s, b) => s + b.bytes, 0), peer: peer?.model });
  const kvMeasured = measured.filter((b) => b.kind === "kv");
  const kvPred = est.buffers.filter((b) => b.kind === "kv");
  kvMeasured.forEach((b, i) => {
    const pb = kvPred[i]?.bytes ?? 0;
    rows.push({ model: run.model, flags: run.flags, kind: "kv", buffer: `${b.buffer}${kvMeasured.length > 1 ? (i === 0 ? " (global)" : " (swa)") : ""}`, memlens: pb, peer: kvMeasured.length === 1 ? peer?.kv : undefined, ...sized(b, pb) });
  });
  if (kvMeasured.length > 1) {
    rows.push({ model: run.model, flags: run.flags, kind: "kv total", buffer: "all", measured: kvMeasured.reduce((s, b) => s + (b.bytes ?? b.mib * MiB), 0), memlens: kvPred.reduce((s, b) => s + b.bytes, 0), peer: peer?.kv });
  }
  const out = measured.find((b) => b.kind === "output");
  const outPred = est.buffers.find((b) => b.kind === "output")?.bytes ?? 0;
  if (out) rows.push({ model: run.model, flags: run.flags, kind: "output", buffer: out.buffer, memlens: outPred, peer: undefined, ...sized(out, outPred) });
  const comp = measured.find((b) => b.kind === "compute");
  const compPred = est.buffers.find((b) => b.kind === "compute")?.bytes ?? 0;
  const bytesOf = (b: MeasuredBuffer | undefined) => (b ? (b.bytes ?? b.mib * MiB) : 0);
  // node-llama-cpp estimates the context as one number (KV + output + compute): its share beyond the KV cache.
  if (comp) rows.push({ model: run.model, flags: run.flags, kind: "compute+output", buffer: "CPU", measured: bytesOf(comp) + bytesOf(out), memlens: compPred + outPred, peer: peer ? peer.context - peer.kv : undefined });
  if (comp) rows.push({ model: run.model, flags: run.flags, kind: "compute", buffer: comp.buffer, measured: bytesOf(comp), memlens: compPred, peer: undefined, ...(comp.bytes !== undefined ? { exact: compPred === comp.bytes } : {}) });
  const rss = run.measured.rss;
  const base = rss["backend"]?.vm;
  if (base !== undefined && rss["load"] && rss["context"]) {
    rows.push({ model: run.model, flags: run.flags, kind: "rss after load", buffer: "process", measured: (rss["load"].vm - base) * 1024, memlens: est.rss.afterLoad, peer: peer?.model });
    rows.push({ model: run.model, flags: run.flags, kind: "rss after context", buffer: "process", measured: (rss["context"].vm - base) * 1024, memlens: est.rss.afterContext, peer: peer ? peer.model + peer.context : undefined });
  }
  // node-llama-cpp has no number for a running context beyond its context estimate: that one is its answer here.
  if (base !== undefined && rss["prompt"] && est.rss.afterPrompt !== undefined) {
    rows.push({ model: run.model, flags: run.flags, kind: `rss after a ${run.measured.promptTokens ?? "?"}-token prompt`, buffer: "process", measured: (rss["prompt"].vm - base) * 1024, memlens: est.rss.afterPrompt, peer: peer ? peer.model + peer.context : undefined });
  }
  return rows;
}

const errOf = (r: Row) => (r.atLog ? err(logRounded(r.memlens) * MiB, r.measured) : err(r.memlens, r.measured));
const err = (pred: number, meas: number) => (meas === 0 ? (pred === 0 ? 0 : 1) : (pred - meas) / meas);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(2)}%`);
const mib = (b: number | undefined) => (b === undefined ? "–" : (b / MiB).toFixed(2));

const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarize(rows: readonly Row[]): { kind: string; n: number; exact: string; peerExact: string; memlensMedian: number; memlensMean: number; memlensWorst: number; peerMedian: number | undefined; peerMean: number | undefined }[] {
  const kinds = [...new Set(rows.map((r) => r.kind))];
  return kinds.map((kind) => {
    const rs = rows.filter((r) => r.kind === kind);
    const e = rs.map((r) => Math.abs(errOf(r)));
    const pe = rs.filter((r) => r.peer !== undefined).map((r) => Math.abs(err(r.peer!, r.measured)));
    const ex = rs.filter((r) => r.exact !== undefined);
    const exactText = (xs: readonly Row[], hit: (r: Row) => boolean) => {
      const bytes = xs.filter((r) => !r.atLog);
      const log = xs.filter((r) => r.atLog);
      return [bytes.length ? `${bytes.filter(hit).length}/${bytes.length} to the byte` : "", log.length ? `${log.filter(hit).length}/${log.length} at 0.01 MiB` : ""].filter((t) => t !== "").join(", ");
    };
    // The peer to the byte where the measurement is bytes (its KV estimate is a byte count).
    const withPeer = rs.filter((r) => r.peer !== undefined && !r.atLog && Number.isInteger(r.measured));
    return { kind, n: rs.length, exact: exactText(ex, (r) => r.exact === true), peerExact: withPeer.length ? `${withPeer.filter((r) => r.peer === r.measured).length}/${withPeer.length}` : "", memlensMedian: median(e), memlensMean: mean(e), memlensWorst: Math.max(...e), peerMedian: pe.length ? median(pe) : undefined, peerMean: pe.length ? mean(pe) : undefined };
  });
}

function summaryTable(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  lines.push("| kind | settings | memlens median abs err | mean | worst | node-llama-cpp median abs err | mean | memlens exact | node-llama-cpp exact to the byte |", "|---|---|---|---|---|---|---|---|---|");
  for (const s of summarize(rows)) lines.push(`| ${s.kind} | ${s.n} | ${pct(s.memlensMedian)} | ${pct(s.memlensMean)} | ${pct(s.memlensWorst)} | ${pct(s.peerMedian)} | ${pct(s.peerMean)} | ${s.exact} | ${s.peerExact} |`);
  return lines;
}

export function renderTable(truth: GroundTruth, rows: readonly Row[], heldout?: { truth: GroundTruth; rows: readonly Row[] }): string {
  const lines: string[] = [];
  lines.push(`# memlens vs real llama.cpp (${truth.llamaCpp}, node-llama-cpp ${truth.nodeLlamaCpp} prebuilt CPU backend \`${truth.cpu.backend}\`)`, "");
  lines.push(`CPU: ${truth.cpu.model}, flags ${truth.cpu.flags.join(" ")}. memlens ran with --cpu avx512 (the backend variant measured: CPU_REPACK; AMX is modelled from ggml-cpu/amx source, unmeasured).`, "");
  lines.push(`## The bench set: ${truth.runs.length} settings over ${new Set(truth.runs.map((r) => r.model)).size} models`, "", ...summaryTable(rows), "");
  if (heldout) lines.push(`## Held out: ${heldout.truth.runs.length} settings over ${new Set(heldout.truth.runs.map((r) => r.model)).size} models the runtime was not developed against`, "", ...summaryTable(heldout.rows), "");
  lines.push("", "Sizes are the allocations' exact bytes where the harness saw them (bench/llamacpp/measure.c wraps posix_memalign, through which ggml allocates every CPU buffer), else llama.cpp's logged MiB (the memory-mapped model buffer). node-llama-cpp's GgufInsights gives one number for the model (compared with the model total and RSS after load), and one for the context: its KV part (compared with the KV total), the rest with compute+output; RSS after context and after the prompt are compared with its model + context.", "");
  lines.push("| model | settings | kind | buffer | llama.cpp MiB | memlens MiB | err | node-llama-cpp MiB | err |", "|---|---|---|---|---|---|---|---|---|");
  for (const r of [...rows, ...(heldout?.rows ?? [])]) {
    lines.push(`| ${r.model} | ${r.flags} | ${r.kind} | ${r.buffer} | ${mib(r.measured)} | ${mib(r.memlens)} | ${pct(errOf(r))} | ${mib(r.peer)} | ${r.peer === undefined ? "–" : pct(err(r.peer, r.measured))} |`);
  }
  return lines.join("\n") + "\n";
}

export function storedTruth(set: "bench" | "heldout" = "bench"): GroundTruth {
  const prefix = set === "heldout" ? "llamacpp-cpu-heldout-" : "llamacpp-cpu-v";
  const file = readdirSync("bench/groundtruth").filter((f) => f.startsWith(prefix) && f.endsWith(".json")).sort()[0];
  if (!file) throw new Error(`no bench/groundtruth/${prefix}*.json: run npm run bench:llamacpp to measure`);
  return JSON.parse(readFileSync(join("bench/groundtruth", file), "utf8")) as GroundTruth;
}

if (process.argv[1]?.endsWith("llamacpp.js")) {
  const stored = process.argv.includes("--stored");
  const truth = stored ? storedTruth() : (await measureAll()).truth;
  const held = stored ? storedTruth("heldout") : (await measureAll(undefined, "heldout")).truth;
  const rows = truth.runs.flatMap(compareRun);
  const text = renderTable(truth, rows, { truth: held, rows: held.runs.flatMap(compareRun) });
  writeFileSync("bench/LLAMACPP-ACCURACY.md", text);
  const summary = text.split("\n\n").slice(0, 8).join("\n\n");
  process.stdout.write(summary + "\n\nfull table: bench/LLAMACPP-ACCURACY.md\n");
}
