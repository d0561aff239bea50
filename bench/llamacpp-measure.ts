/**
 * Ground truth from real llama.cpp: the prebuilt CPU libraries node-llama-cpp ships in its npm packages
 * (nothing downloaded), driven through llama.cpp's C API by bench/llamacpp/measure.c, one fresh process per
 * setting. llama.h comes from the llama.cpp source bundle inside the same node-llama-cpp package, so header and
 * libraries are the same release. node-llama-cpp's own estimator (GgufInsights) runs beside it.
 *
 * Writes bench/groundtruth/llamacpp-cpu-<release>-<cpu>.json. Needs gcc and git (bench only).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { shapeGguf } from "../src/formats/gguf-models.js";
import { ggufLayout, writeGgufChunks } from "../src/formats/gguf-writer.js";
import { KV_CACHE_TYPES } from "../src/memory/llamacpp/settings.js";
import { parseLlamaLog, type ParsedRun } from "./llamacpp-parse.js";
import { BENCH_MODELS, HELDOUT_MODELS, HELDOUT_SETTINGS, settingFlags, settingsFor, type BenchModel, type LlamaSetting } from "./llamacpp-models.js";

const OUT = "bench/out/llamacpp";
/** ggml_type codes (ggml.h) of the KV cache types llama.cpp's -ctk/-ctv accept. */
export const KV_TYPE_CODES: Record<string, number> = Object.fromEntries(Object.entries(KV_CACHE_TYPES).map(([name, t]) => [name, t.code]));

export interface GroundTruthRun {
  model: string;
  file: string;
  fileBytes: number;
  setting: LlamaSetting;
  flags: string;
  measured: ParsedRun;
  /** node-llama-cpp's GgufInsights estimate for the same setting, bytes. */
  peer: { model: number; kv: number; context: number } | { error: string };
}

export interface GroundTruth {
  llamaCpp: string;
  nodeLlamaCpp: string;
  cpu: { model: string; flags: string[]; backend: string | undefined };
  runs: GroundTruthRun[];
}

function cpuInfo(): { model: string; flags: string[] } {
  const text = readFileSync("/proc/cpuinfo", "utf8");
  const model = text.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown";
  const flags = (text.match(/^flags\s*:\s*(.*)$/m)?.[1] ?? "").split(/\s+/).filter((f) => /^(avx|amx|fma|f16c|sse4|avx512)/.test(f));
  return { model, flags };
}

/** The node-llama-cpp package folder, its CPU binaries folder and its llama.cpp release. */
function nodeLlamaCpp(): { pkg: string; version: string; bins: string; release: string } {
  const require = createRequire(import.meta.url);
  // Neither package exports its package.json: walk up from the resolved entry to the folder that holds it.
  const root = (entry: string): string => {
    let dir = dirname(entry);
    while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
    return dir;
  };
  const pkg = root(require.resolve("node-llama-cpp"));
  const bins = join(dirname(pkg), "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
  if (!existsSync(bins)) throw new Error(`no prebuilt llama.cpp CPU binaries at ${bins} (npm install node-llama-cpp's linux-x64 package)`);
  const version = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version as string;
  const release = JSON.parse(readFileSync(join(pkg, "llama", "llama.cpp.info.json"), "utf8")).tag as string;
  return { pkg, version, bins, release };
}

/** Compile measure.c against the shipped libllama, with llama.h from the shipped source bundle. */
function buildHarness(pkg: string, bins: string): string {
  // Outside bench/ (tsc compiles bench/**/*.ts) and outside git: a cache beside the package it came from.
  const src = join("node_modules", ".cache", "memlens-llama.cpp-src");
  if (!existsSync(join(src, "include", "llama.h"))) execFileSync("git", ["clone", "-q", join(pkg, "llama", "gitRelease.bundle"), src], { stdio: "inherit" });
  mkdirSync(OUT, { recursive: true });
  const exe = join(OUT, "measure");
  const lib = readdirSync(bins);
  const so = (prefix: string) => lib.find((f) => f.startsWith(prefix) && f.endsWith(".so")) ?? `${prefix}.so`;
  execFileSync("gcc", ["-O1", "-o", exe, "bench/llamacpp/measure.c", `-I${src}/include`, `-I${src}/ggml/include`, `-L${bins}`, `-l:${so("libllama.")}`, `-l:${so("libggml.")}`, "-l:libggml-base.so", `-Wl,-rpath,${bins}`, "-rdynamic"], { stdio: "inherit" });
  return exe;
}

export function ggufPath(model: BenchModel): string {
  return join(OUT, "gguf", `${model.id}.gguf`);
}

/** Write the model's GGUF unless a file of the same size (same shape and types) is there already. */
export function ensureGguf(model: BenchModel): { path: string; bytes: number } {
  const path = ggufPath(model);
  const input = shapeGguf(model.shape, model.plan);
  const size = ggufLayout(input).fileSize;
  if (existsSync(path) && statSync(path).size === size) return { path, bytes: size };
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  try {
    writeGgufChunks(input, (c) => writeSync(fd, c));
  } finally {
    closeSync(fd);
  }
  return { path, bytes: size };
}

/**
 * Tokens of the prompt each run decodes after creating the context (one sequence, logits for the last token only,
 * as llama-cli's first decode asks), for the RSS after a prompt. Below every context measured.
 */
export const PROMPT_TOKENS = 200;

function runOne(exe: string, bins: string, path: string, s: LlamaSetting): ParsedRun {
  const fa = s.fa === "auto" ? -1 : s.fa === "on" ? 1 : 0;
  const args = [path, bins, s.ctx, s.parallel, s.batch, s.ubatch, fa, KV_TYPE_CODES[s.typeK], KV_TYPE_CODES[s.typeV], s.mmap ? 1 : 0, s.kvUnified ? 1 : 0, s.swaFull ? 1 : 0, PROMPT_TOKENS].map(String);
  const r = spawnSync(exe, args, { encoding: "utf8", maxBuffer: 256 << 20, timeout: 300_000 });
  const parsed = parseLlamaLog(r.stdout ?? "");
  if (!parsed.done) throw new Error(`llama.cpp failed on ${path} ${settingFlags(s)}: ${(r.stderr ?? "").trim().split("\n").pop()}`);
  return parsed;
}

async function peerEstimates(path: string, settings: LlamaSetting[]): Promise<GroundTruthRun["peer"][]> {
  try {
    const nlc = await import("node-llama-cpp");
    const llama = await nlc.getLlama({ gpu: false, build: "never", logLevel: nlc.LlamaLogLevel.error });
    const insights = await nlc.GgufInsights.from(await nlc.readGgufFileInfo(path), llama);
    return settings.map((s) => {
      const model = insights.estimateModelResourceRequirements({ gpuLayers: 0, useMmap: s.mmap }).cpuRam;
      // node-llama-cpp runs n_ubatch = n_batch: its batchSize is llama.cpp's ubatch.
      const opts = { contextSize: s.ctx, modelGpuLayers: 0, batchSize: s.ubatch, sequences: s.parallel, flashAttention: s.fa === "on", swaFullCache: s.swaFull, kvCacheKeyType: KV_TYPE_CODES[s.typeK]!, kvCacheValueType: KV_TYPE_CODES[s.typeV]! };
      const context = insights.estimateContextResourceRequirements(opts).cpuRam;
      // The KV part of its context estimate (its internal split, the same numbers it sums).
      const split = (insights as unknown as { _estimateContextCacheMemorySplitInBytes?: (o: object) => { cpuKVCacheSize: number } })._estimateContextCacheMemorySplitInBytes;
      const kv = split ? split.call(insights, kvSplitArgs(insights, s)).cpuKVCacheSize : NaN;
      return { model, kv, context };
    });
  } catch (e) {
    return settings.map(() => ({ error: (e as Error).message }));
  }
}

/** The arguments node-llama-cpp's estimateContextResourceRequirements passes to its KV split (GgufInsights.js). */
function kvSplitArgs(insights: { swaSize?: number | undefined; trainContextSize?: number | undefined; totalLayers: number }, s: LlamaSetting): object {
  const pad = (n: number) => Math.ceil(n / 256) * 256;
  const full = s.parallel * pad(s.ctx);
  const swa = insights.swaSize ?? 0;
  const reduced = swa > 0 && !s.swaFull && swa < s.ctx && (insights.trainContextSize == null || swa < insights.trainContextSize);
  const swaKv = swa === 0 || !reduced ? full : Math.min(full, pad(s.parallel * swa + s.ubatch + 1));
  return { fullAttentionKvSize: full, swaKvSize: swaKv, sequences: s.parallel, totalFileLayers: insights.totalLayers - 1, finalModelGpuLayers: 0, usingGpu: false, flashAttention: s.fa === "on", kvCacheKeyType: KV_TYPE_CODES[s.typeK], kvCacheValueType: KV_TYPE_CODES[s.typeV] };
}

/** The measured sets: the bench models with their settings, and the held-out ones. */
export type MeasureSet = "bench" | "heldout";

export async function measureAll(only?: string, set: MeasureSet = "bench"): Promise<{ truth: GroundTruth; path: string }> {
  const nlc = nodeLlamaCpp();
  const exe = buildHarness(nlc.pkg, nlc.bins);
  const cpu = cpuInfo();
  const runs: GroundTruthRun[] = [];
  let backend: string | undefined;
  for (const model of (set === "heldout" ? HELDOUT_MODELS : BENCH_MODELS).filter((m) => !only || m.id.includes(only))) {
    const { path, bytes } = ensureGguf(model);
    const settings = set === "heldout" ? HELDOUT_SETTINGS : settingsFor(model);
    const peers = await peerEstimates(path, settings);
    settings.forEach((s, i) => {
      const measured = runOne(exe, nlc.bins, path, s);
      backend ??= measured.cpuBackend;
      runs.push({ model: model.id, file: `${model.id}.gguf`, fileBytes: bytes, setting: s, flags: settingFlags(s), measured, peer: peers[i]! });
      process.stderr.write(`${model.id} ${settingFlags(s)}: ${measured.buffers.map((b) => `${b.kind}:${b.buffer}=${b.mib}`).join(" ")}\n`);
    });
  }
  const truth: GroundTruth = { llamaCpp: nlc.release, nodeLlamaCpp: nlc.version, cpu: { ...cpu, backend }, runs };
  const cpuName = `${cpu.model.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase()}-${backend ?? "cpu"}`;
  // A partial run (a model filter) never replaces the committed measurements.
  const out = only ? join(OUT, `partial-${only}.json`) : join("bench", "groundtruth", `llamacpp-cpu-${set === "heldout" ? "heldout-" : ""}${nlc.release}-${cpuName}.json`);
  writeFileSync(out, JSON.stringify(truth, null, 1) + "\n");
  return { truth, path: out };
}

if (process.argv[1]?.endsWith("llamacpp-measure.js")) {
  const heldout = process.argv.includes("--heldout");
  const only = process.argv.slice(2).find((a) => !a.startsWith("--"));
  const { path, truth } = await measureAll(only, heldout ? "heldout" : "bench");
  process.stdout.write(`wrote ${path}: ${truth.runs.length} runs\n`);
}
