/**
 * cudnn.benchmark trial workspaces, predicted (src/memory/torch/cudnn-benchmark.ts) against measured, per
 * convolution configuration: `node dist/bench/cudnn-trials.js`.
 *
 * Measured: bench/groundtruth/gpu-h200-torch2.11-cudnn-benchmark.jsonl.gz, one fresh process per line. A
 * configuration's trial is read from forward 1's allocator trace: the allocation freed right away whose size
 * is within the allocator's rounding (2 MiB) of the conv hook's `workspace` (the call's peak over what was
 * live before it and its output); the trace holds the requested size, to the byte. Configurations whose hook
 * saw less than 4 kB (depthwise) have no trial to read and are listed as such.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { trialWorkspace } from "../src/memory/torch/cudnn-benchmark.js";
import type { ConvCall } from "../src/memory/torch/conv-call.js";
import { LEGACY_FIXTURES, REPO_ROOT } from "./shared.js";

const FILE = join(REPO_ROOT, "bench", "groundtruth", "gpu-h200-torch2.11-cudnn-benchmark.jsonl.gz");

interface ConvRecord {
  module: string;
  input: number[];
  weight: number[];
  output: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
  workspace: number;
}

interface Process {
  model: string;
  dtype: string;
  batch: number;
  /** The most allocated during forward 1 (the trials included) over what was allocated before it. */
  peak_delta_1_from_trace: number;
  convs_forward_1: ConvRecord[];
  traces: { forward_1: { events: [string, number, number][] } };
}

export interface TrialRow {
  process: number;
  model: string;
  dtype: string;
  batch: number;
  module: string;
  engine: string;
  predicted: number;
  /** Undefined when the trace has no trial for it (a configuration whose plans need under 4 kB). */
  measured: number | undefined;
}

/** Allocations freed by the very next allocator event: the trials and the per-call workspaces. */
function transients(events: [string, number, number][]): number[] {
  const out: number[] = [];
  events.forEach((e, i) => {
    const next = events[i + 1];
    if (e[0] === "alloc" && next && next[0] === "free_requested" && next[1] === e[1]) out.push(e[2]);
  });
  return out;
}

function processes(): Process[] {
  const lines = gunzipSync(readFileSync(FILE)).toString("utf8").split("\n").filter((l) => l.startsWith("BENCH "));
  return lines.map((line) => JSON.parse(line.slice(6)) as Process);
}

export function trialRows(): TrialRow[] {
  const rows: TrialRow[] = [];
  processes().forEach((r, p) => {
    const sizes = transients(r.traces.forward_1.events);
    let from = 0;
    const seen = new Set<string>();
    for (const c of r.convs_forward_1) {
      const key = JSON.stringify([c.input, c.weight, c.stride, c.padding, c.dilation, c.groups]);
      if (seen.has(key)) continue;
      seen.add(key);
      let measured: number | undefined;
      if (c.workspace > 4096) {
        const j = sizes.findIndex((s, k) => k >= from && s <= c.workspace && s >= Math.max(c.workspace - 2.2 * 2 ** 20, c.workspace / 2));
        if (j >= 0) {
          measured = sizes[j];
          from = j + 1;
        }
      }
      const call: ConvCall = {
        x: c.input, w: c.weight, y: c.output, strides: c.stride, dilations: c.dilation, group: c.groups,
        dtype: r.dtype === "float16" ? "float16" : "float32",
      };
      const t = trialWorkspace(call);
      const engine = t.engine + (t.lowerBound ? " (lower bound)" : "");
      rows.push({ process: p, model: r.model, dtype: r.dtype, batch: r.batch, module: c.module, engine, predicted: t.bytes, measured });
    }
  });
  return rows;
}

/** The harness's process had used cuBLAS before (measure.py, init_like_measure_gpu): its workspaces are in the base. */
const CUBLAS_BEFORE = 33 * 2 ** 20;

export interface PeakRow {
  model: string;
  dtype: string;
  batch: number;
  predicted: number;
  measured: number;
}

/** Forward 1's peak over its start, memlens (legacy export, --cudnn-benchmark) against the trace. */
export async function peakRows(): Promise<PeakRow[]> {
  const out: PeakRow[] = [];
  for (const r of processes()) {
    const { model } = await loadModelFile(join(LEGACY_FIXTURES, `${r.model}.onnx`));
    const dtype = r.dtype === "float16" ? "fp16" : "fp32";
    const m = analyzeModel(model, { batch: r.batch, dtype, device: "h200", runtime: "pytorch-cuda", memory: true, cudnnBenchmark: true }).report.memory!;
    out.push({ model: r.model, dtype, batch: r.batch, predicted: m.peakAllocated - CUBLAS_BEFORE - m.weights - m.inputs, measured: r.peak_delta_1_from_trace });
  }
  return out;
}

async function main(): Promise<void> {
  const rows = trialRows();
  const mib = (n: number) => (n / 2 ** 20).toFixed(1).padStart(8);
  console.log("proc model          dtype    batch module                  engine                      predicted  measured   error");
  for (const r of rows) {
    const err = r.measured ? `${(((r.predicted - r.measured) / r.measured) * 100).toFixed(1)}%` : "-";
    console.log(`${String(r.process).padEnd(4)} ${r.model.padEnd(14)} ${r.dtype.padEnd(8)} ${String(r.batch).padStart(5)} ${r.module.padEnd(23)} ${r.engine.padEnd(26)} ${mib(r.predicted)} ${r.measured === undefined ? "       -" : mib(r.measured)} ${err.padStart(7)}`);
  }
  const measured = rows.filter((r) => r.measured !== undefined);
  for (const engine of [...new Set(measured.map((r) => r.engine))]) {
    const of = measured.filter((r) => r.engine === engine);
    const exact = of.filter((r) => r.predicted === r.measured).length;
    const errs = of.map((r) => Math.abs(r.predicted - r.measured!) / r.measured!).sort((a, b) => a - b);
    console.log(`${engine}: ${of.length} configurations, ${exact} to the byte, median |error| ${(errs[errs.length >> 1]! * 100).toFixed(1)}%, worst ${(errs[errs.length - 1]! * 100).toFixed(1)}%`);
  }
  console.log("\nforward 1's peak over its start (MiB), legacy export with --cudnn-benchmark");
  for (const p of await peakRows()) {
    console.log(`${p.model.padEnd(14)} ${p.dtype} b${String(p.batch).padEnd(4)} predicted ${mib(p.predicted)} measured ${mib(p.measured)} ${(((p.predicted - p.measured) / p.measured) * 100).toFixed(1).padStart(6)}%`);
  }
}

if (process.argv[1]?.endsWith("cudnn-trials.js")) await main();
