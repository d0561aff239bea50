/**
 * ORT CPU accuracy: predicted (`--runtime ort-cpu`) vs measured process memory growth after the first and
 * second run (maxrss_runN - rss_input) for every measured row: the shared ground truth
 * (bench/groundtruth/ort-cpu-memory.json) and held-out rows under bench/groundtruth/ort-cpu-*.json.
 * Then compares the modelled ORT graph with the one onnxruntime writes (writeOptimizedModel) per fixture.
 * Prints the tables and writes bench/ORT-ACCURACY.md.  usage: node dist/bench/ort-accuracy.js [--no-graphs]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { estimateOrtCpu } from "../src/memory/ort/estimate.js";
import { buildOrtGraph } from "../src/memory/ort/graph.js";
import { modelledHistogram, realHistogram } from "../src/memory/ort/compare.js";
import { materializeWeights } from "./ort-weights.js";
import { FIXTURES, GROUNDTRUTH, REPO_ROOT } from "./shared.js";
import { hostCpu, parseCpuIsa, type CpuIsa } from "../src/memory/cpu.js";
import { ORT_CPU_TRAITS } from "../src/memory/ort/cpu-traits.js";

export interface OrtRow {
  model: string;
  batch: number;
  hw: number;
  input_bytes: number;
  rss_start: number;
  rss_created: number;
  maxrss_created: number;
  rss_input: number;
  maxrss_run1: number;
  maxrss_run2: number;
}

export interface AccuracyLine {
  set: string;
  /** The CPU the set was measured on (its file's env.isa), which the prediction assumes (--cpu). */
  cpu: CpuIsa;
  model: string;
  batch: number;
  hw: number;
  measured: { run1: number; run2: number; loadPeak: number };
  predicted: { run1: number; run2: number; loadPeak: number };
  error: { run1: number; run2: number; loadPeak: number };
}


function modelPath(name: string, set: string): string {
  if (name.endsWith(".onnx")) return resolve(REPO_ROOT, name);
  return join(FIXTURES, set.includes("dynamo") ? "onnx-dynamo" : "onnx-legacy", `${name}.onnx`);
}

export function predictRow(file: string, batch: number, hw: number, cpu: CpuIsa): { run1: number; run2: number; loadPeak: number } {
  const { model, openExternal, source } = loadModelFile(file);
  try {
    const input = model.graph.inputs.find((v) => !model.graph.initializers.has(v.name));
    const inputs = input ? { [input.name]: [batch, 3, hw, hw] } : undefined;
    const a = analyzeModel(model, { batch, ...(inputs ? { inputs } : {}), openExternal, runtime: "ort-cpu", device: "cpu", cpu });
    const e = estimateOrtCpu({ model, inference: a.inference, bindings: a.bindings, settings: { batch, dtype: "fp32", runtime: "ort-cpu", device: "cpu", mode: "inference", cpu } });
    return { run1: e.afterRun1, run2: e.afterRun2, loadPeak: e.loadPeak };
  } finally {
    source.close();
  }
}

interface GroundTruthFile {
  env: { isa?: string; cpu?: string };
  runs: OrtRow[];
}

/** The CPU a ground-truth file was measured on: its env.isa. The shared file predates the field; it was
 *  measured on the AMD EPYC with AVX2 that the first held-out files name. */
function isaOf(file: GroundTruthFile, set: string): CpuIsa {
  if (file.env.isa) return parseCpuIsa(file.env.isa);
  if (set === "shared") return "avx2";
  throw new Error(`${set}: ground truth without env.isa (the CPU it was measured on)`);
}

export function accuracyLines(): AccuracyLine[] {
  const sets: { set: string; cpu: CpuIsa; rows: OrtRow[] }[] = [];
  const add = (set: string, path: string) => {
    const file = JSON.parse(readFileSync(path, "utf8")) as GroundTruthFile;
    sets.push({ set, cpu: isaOf(file, set), rows: file.runs });
  };
  add("shared", join(GROUNDTRUTH, "ort-cpu-memory.json"));
  const local = join(REPO_ROOT, "bench", "groundtruth");
  if (existsSync(local)) {
    // ort-cpu-memory.json is the shared set (read above); every other ort-cpu-*.json is a held-out set.
    const heldOut = (f: string) => f.startsWith("ort-cpu-") && f.endsWith(".json") && f !== "ort-cpu-memory.json";
    for (const f of readdirSync(local).filter(heldOut).sort()) add(basename(f, ".json"), join(local, f));
  }
  const lines: AccuracyLine[] = [];
  const rel = (p: number, m: number) => (m === 0 ? 0 : (p - m) / m);
  for (const { set, cpu, rows } of sets) {
    for (const r of rows) {
      const measured = { run1: r.maxrss_run1 - r.rss_input, run2: r.maxrss_run2 - r.rss_input, loadPeak: r.maxrss_created - r.rss_start };
      const predicted = predictRow(modelPath(r.model, set), r.batch, r.hw, cpu);
      lines.push({
        set, cpu, model: r.model, batch: r.batch, hw: r.hw, measured, predicted,
        error: { run1: rel(predicted.run1, measured.run1), run2: rel(predicted.run2, measured.run2), loadPeak: rel(predicted.loadPeak, measured.loadPeak) },
      });
    }
  }
  return lines;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function render(lines: AccuracyLine[]): string {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const pct = (e: number) => `${e >= 0 ? "+" : ""}${(e * 100).toFixed(1)}%`;
  const out = [
    "| set | cpu | model | batch | hw | run1 measured MiB | run1 predicted | error | run2 measured MiB | run2 predicted | error | load peak measured | predicted | error |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const l of lines) {
    out.push(`| ${l.set} | ${l.cpu} | ${l.model} | ${l.batch} | ${l.hw} | ${mib(l.measured.run1)} | ${mib(l.predicted.run1)} | ${pct(l.error.run1)} | ${mib(l.measured.run2)} | ${mib(l.predicted.run2)} | ${pct(l.error.run2)} | ${mib(l.measured.loadPeak)} | ${mib(l.predicted.loadPeak)} | ${pct(l.error.loadPeak)} |`);
  }
  out.push("");
  for (const set of [...new Set(lines.map((l) => l.set))]) {
    const ls = lines.filter((l) => l.set === set);
    const m = (k: "run1" | "run2" | "loadPeak") => (median(ls.map((l) => Math.abs(l.error[k]))) * 100).toFixed(1);
    out.push(`**${set}** (${ls.length} rows): median |error| afterRun1 ${m("run1")}%, afterRun2 ${m("run2")}%, load peak ${m("loadPeak")}%  `);
  }
  const held = lines.filter((l) => l.set !== "shared");
  if (held.length > 0) {
    const m = (k: "run1" | "run2" | "loadPeak") => (median(held.map((l) => Math.abs(l.error[k]))) * 100).toFixed(1);
    out.push(`**all held-out rows** (${held.length}): median |error| afterRun1 ${m("run1")}%, afterRun2 ${m("run2")}%, load peak ${m("loadPeak")}%  `);
  }
  return out.join("\n");
}

/** Modelled vs real (writeOptimizedModel, random weights) node counts by op, per legacy fixture. */
async function graphAgreement(): Promise<string> {
  const { writeOptimizedModel } = await import("../src/runtime/ort.js");
  const out = ["| model | nodes modelled | nodes in ORT's graph | ops that differ (modelled/real) |", "| --- | ---: | ---: | --- |"];
  for (const name of ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"]) {
    const dir = mkdtempSync(join(tmpdir(), "memlens-ortgraph-"));
    try {
      const copy = materializeWeights(modelPath(name, "legacy"), dir);
      const optimized = join(dir, "optimized.onnx");
      await writeOptimizedModel(copy, optimized, "all");
      const real = loadModelFile(optimized);
      const mine = loadModelFile(modelPath(name, "legacy"));
      const a = analyzeModel(mine.model, { batch: 1, openExternal: mine.openExternal });
      const hm = modelledHistogram(buildOrtGraph(mine.model, a.inference, a.bindings, { nchwcBlock: ORT_CPU_TRAITS[hostCpu().isa].nchwcBlock }));
      const hr = realHistogram(real.model.graph);
      real.source.close();
      mine.source.close();
      const diffs = [...new Set([...Object.keys(hm), ...Object.keys(hr)])].filter((k) => hm[k] !== hr[k]).map((k) => `${k} ${hm[k] ?? 0}/${hr[k] ?? 0}`);
      const total = (h: Record<string, number>) => Object.values(h).reduce((x, y) => x + y, 0);
      out.push(`| ${name} | ${total(hm)} | ${total(hr)} | ${diffs.join(", ") || "none"} |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out.join("\n");
}

/**
 * What measuring onnxruntime itself showed (verbose arena log, /proc/self/pagemap and smaps, an LD_PRELOAD
 * allocation trace with the arena off); kept with the table because the numbers above depend on it.
 */
const FINDINGS = [
  "## What the measurements of ORT itself show (vit_b_16, batch 8)",
  "",
  "- Modelled and counted: BiasGelu (and FastGelu with a bias) takes a scratch of its input's size from the arena",
  "  (`contrib_ops/cpu/bert/bias_gelu.cc`, `GetTempSpaceAllocator`) after its output and gives it back when it",
  "  returns; the memory pattern never traces it, so run 2 takes it again while the pattern block is held. This",
  "  was the per-sample term: the simulated arena regions (8, 8, 16, 32, 64 MiB) equal ORT's extension log, and",
  "  the pages written in them after run 1 equal pagemap's count (78.9 MiB both).",
  "- Modelled and counted: external weights that no kernel copies at load (position embedding, biases,",
  "  LayerNorm scales) stay memory-mapped and are paged in by run 1 (smaps: +0.8 MiB; modelled 0.82).",
  "- Not modelled, run 2: ORT's pattern block is 63,342,592 B, memlens's 58,500,352 B. Replaying ORT's own",
  "  allocation trace through `planMemoryPattern` gives 63,342,336 B, so the planner is right; the difference is",
  "  where 64-byte int64 shape tensors sit: one lands in a 24 KB gap in memlens's trace and in a 4.5 MB gap in",
  "  ORT's, which then pushes the first 19 MB MLP block higher. Modelling ORT's CSE, constant sharing and no-op",
  "  elimination brought the node counts close (above) but not those lifetimes; the head's Reshape fusion is",
  "  not modelled.",
  "- Not modelled, run 1: each BFC region allocates region/256 chunk handles of 8 B (region/32) on the heap; that",
  "  is new RSS only when glibc has no freed heap to reuse (vit: +4 MiB at batch 8; resnet50 at batch 32: none,",
  "  the handles reuse heap freed during load); and the kernels' code pages first executed (0.4-1.3 MiB).",
  "",
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = accuracyLines();
  const table = render(lines);
  console.log(table);
  const agreement = process.argv.includes("--no-graphs") ? "(skipped: --no-graphs)" : await graphAgreement();
  console.log(agreement);
  const doc = [
    "# ONNX Runtime CPU: predicted vs measured process memory",
    "",
    "`node dist/bench/ort-accuracy.js` (`npm run bench:ort-accuracy`) writes this file. Measured: onnxruntime-node 1.30,",
    "CPU provider, 2 intra-op threads, default arena and memory pattern, one fresh process per row",
    "(`bench/groundtruth/scripts/ort_mem_one.mjs`). run1/run2 = maxrss after the run minus RSS with the input in place",
    "(`memory.afterRun1`/`afterRun2`); load peak = maxrss after session creation minus RSS at start (`memory.loadPeak`).",
    "Predicted by `--runtime ort-cpu --device cpu` from the model file alone.",
    "",
    table,
    "",
    "## The modelled graph vs the one ORT builds",
    "",
    "Node counts by op (with fused activation and Conv Sum input), from `writeOptimizedModel` on each legacy fixture",
    `with random weights (ORT_ENABLE_ALL, this machine: ${hostCpu().model || "CPU"}, ${hostCpu().isa}, NCHWc block ${ORT_CPU_TRAITS[hostCpu().isa].nchwcBlock}):`,
    "",
    agreement,
    "",
    ...FINDINGS,
  ].join("\n");
  writeFileSync(join(REPO_ROOT, "bench", "ORT-ACCURACY.md"), doc);
}
