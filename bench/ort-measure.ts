/**
 * Measures ORT CPU ground truth on this machine with the project's protocol: one fresh onnxruntime-node
 * process per measurement (groundtruth/scripts/ort_mem_inputs.mjs: the stages and session options of
 * ort_mem_one.mjs, any inputs), each row measured REPEAT times and every field's median kept. Writes
 * bench/groundtruth/ort-cpu-<set>-<machine>-ort1.30-node20.json with this CPU's model name, flags and ISA.
 *
 * usage: node dist/bench/ort-measure.js foreign|foreign-heldout|legacy [--repeat 3] [--machine TAG]
 *   foreign: bench/fixtures/foreign/models.json (unzipped to a temporary folder), two files: the rows the
 *            rules were written against, and the held-out ones (foreign-heldout: that file only);
 *   legacy:  the shared set's rows (onnx-legacy fixtures at batch 1, 8, 32) with random weights.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { hostCpu } from "../src/memory/cpu.js";
import { materializeWeights } from "./ort-weights.js";
import { FIXTURES, GROUNDTRUTH, REPO_ROOT } from "./shared.js";

export interface InputSpec {
  dtype: "float32" | "float16" | "int64" | "int32" | "bool" | "uint8" | "int8";
  shape: number[];
  value?: number;
}

export interface ForeignModel {
  file: string;
  heldout?: boolean;
  source: { package: string; version: string; path: string; licence: string };
  exporter: string;
  sha256: string;
  rows: Record<string, InputSpec>[];
}

export const FOREIGN_DIR = join(FIXTURES, "foreign");

export function foreignModels(): ForeignModel[] {
  return (JSON.parse(readFileSync(join(FOREIGN_DIR, "models.json"), "utf8")) as { models: ForeignModel[] }).models;
}

/** The model file of a foreign fixture, unzipped into DIR (the fixtures are gzipped, weights zeroed). */
export function unzipForeign(file: string, dir: string): string {
  const out = join(dir, file);
  writeFileSync(out, gunzipSync(readFileSync(join(FOREIGN_DIR, `${file}.gz`))));
  return out;
}

const CHILD = join(REPO_ROOT, "bench", "groundtruth", "scripts", "ort_mem_inputs.mjs");

function measureOnce(file: string, spec: Record<string, InputSpec>): Record<string, unknown> {
  const out = execFileSync(process.execPath, [CHILD, file, JSON.stringify(spec)], { encoding: "utf8", env: { ...process.env, ORT_FROM: join(REPO_ROOT, "package.json") }, maxBuffer: 1 << 24 });
  const line = out.split("\n").find((l) => l.startsWith("ORTMEM "));
  if (!line) throw new Error(`${file}: no ORTMEM line`);
  return JSON.parse(line.slice(7)) as Record<string, unknown>;
}

function medianRecord(records: Record<string, unknown>[]): Record<string, unknown> {
  const first = records[0]!;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(first)) {
    if (typeof v !== "number") {
      out[k] = v;
      continue;
    }
    const xs = records.map((r) => r[k] as number).sort((a, b) => a - b);
    out[k] = xs[Math.floor(xs.length / 2)];
  }
  out["repeats"] = records.length;
  return out;
}

function env(rows: string, repeat: number): Record<string, unknown> {
  const cpu = hostCpu();
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "onnxruntime-node", "package.json"), "utf8")) as { version: string };
  return {
    "onnxruntime-node": pkg.version,
    node: process.versions.node,
    cpu: `${cpu.model || "unknown CPU"}, intraOpNumThreads 2`,
    isa: cpu.isa,
    flags: cpu.flags.filter((f) => /^(avx|amx|fma|sse4|f16c|asimd|sve)/.test(f)).join(" "),
    measured: new Date().toISOString().slice(0, 10),
    script: `bench/groundtruth/scripts/ort_mem_inputs.mjs, one fresh process per measurement, median of ${repeat}`,
    rows,
  };
}

function measureForeign(repeat: number, machine: string, sets: readonly boolean[] = [false, true]): void {
  const dir = mkdtempSync(join(tmpdir(), "memlens-foreign-"));
  try {
    for (const heldout of sets) {
      const runs: Record<string, unknown>[] = [];
      for (const m of foreignModels().filter((m) => (m.heldout ?? false) === heldout)) {
        const file = unzipForeign(m.file, dir);
        for (const spec of m.rows) {
          const records = Array.from({ length: repeat }, () => measureOnce(file, spec));
          runs.push({ ...medianRecord(records), file: m.file, model: m.file, inputs: spec });
          process.stderr.write(`${m.file} ${JSON.stringify(Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, s.shape])))}: done\n`);
        }
        rmSync(file);
      }
      const set = heldout ? "foreign-heldout" : "foreign";
      const what = heldout ? "foreign models held out from the rules (bench/fixtures/foreign/models.json, heldout: true)" : "foreign models the rules were written against (bench/fixtures/foreign/models.json)";
      const out = join(GROUNDTRUTH, `ort-cpu-${set}-${machine}-ort1.30-node20.json`);
      writeFileSync(out, JSON.stringify({ env: { ...env(what, repeat), weights: "the fixtures' zeroed weights (strip.py), embedded as in the originals" }, fields: "as ort-cpu-memory.json; inputs: the input specs fed", runs }, null, 1) + "\n");
      process.stderr.write(`wrote ${out}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureLegacy(repeat: number, machine: string): void {
  const dir = mkdtempSync(join(tmpdir(), "memlens-legacy-"));
  const runs: Record<string, unknown>[] = [];
  try {
    for (const name of ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"]) {
      const file = materializeWeights(join(FIXTURES, "onnx-legacy", `${name}.onnx`), join(dir, name));
      for (const batch of [1, 8, 32]) {
        const spec: Record<string, InputSpec> = { input: { dtype: "float32", shape: [batch, 3, 224, 224] } };
        const records = Array.from({ length: repeat }, () => measureOnce(file, spec));
        runs.push({ ...medianRecord(records), model: name, batch, hw: 224 });
        process.stderr.write(`${name} batch ${batch}: done\n`);
      }
      rmSync(join(dir, name), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = join(GROUNDTRUTH, `ort-cpu-legacy-${machine}-ort1.30-node20.json`);
  writeFileSync(out, JSON.stringify({ env: { ...env("the shared set's rows (onnx-legacy fixtures, batch 1/8/32 at 224) on this machine", repeat), weights: "random values at the recorded external-data offsets (bench/ort-weights.ts)" }, fields: "as ort-cpu-memory.json", runs }, null, 1) + "\n");
  process.stderr.write(`wrote ${out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
  };
  const repeat = Number(opt("repeat", "3"));
  // Name the machine as the earlier files do (epyc2 = 2 vCPU AMD EPYC), with its ISA.
  const machine = opt("machine", `host-${hostCpu().isa}`);
  if (args[0] === "foreign") measureForeign(repeat, machine);
  else if (args[0] === "foreign-heldout") measureForeign(repeat, machine, [true]);
  else if (args[0] === "legacy") measureLegacy(repeat, machine);
  else {
    console.error("usage: node dist/bench/ort-measure.js foreign|foreign-heldout|legacy [--repeat 3] [--machine TAG]");
    process.exit(1);
  }
}
