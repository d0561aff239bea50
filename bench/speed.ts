/**
 * `npm run bench:speed`: memlens against its peer, Python's onnx (Debian's python3-onnx: `onnx.load` without
 * external data + `infer_shapes(data_prop=True)`, bench/onnx-peer.py), in the same run, as ratios (issue 17).
 * Whole processes, best of RUNS, memlens and the peer interleaved (this machine is shared: ratios within one
 * run are what count, not absolute times):
 *   gpt2 (bench/fixtures/onnx-dynamo), a dynamo-style Llama-3.2-1B export (1.5k nodes, weights external and
 *   never read), a 100,000-node chain and a 100,000-node residual graph (bench/speed-models.ts)  memlens/onnx <= 1.0
 * and, printed with their targets:
 *   analyze of gpt2 in one process, 20 times (shapes + pytorch-cuda memory)                   median <= 30 ms
 *   the web page, from gpt2 chosen to its report drawn (chromium via playwright-core)          median <= 150 ms
 *   peak RSS of `analyze --json` on a model with 1 GiB of embedded weights                     < 150 MB
 *   `memlens` with no arguments (issue 11: the seed's three examples, run for real)            < 5 s
 * Generated models are written to a temporary folder and deleted afterwards. Exit code 1 when a target is missed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { analyzeModel } from "../src/analyze.js";
import { DYNAMO_FIXTURES } from "./shared.js";
import { chainGraph, llamaGraph, oneGigabyteOfWeights, residualGraph } from "./speed-models.js";
import { pageTimes } from "./speed-web.js";

const RSS_CHILD = fileURLToPath(new URL("./rss-child.js", import.meta.url));
const PEER = fileURLToPath(new URL("../../bench/onnx-peer.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const GPT2 = join(DYNAMO_FIXTURES, "gpt2.onnx");
const RUNS = Number(process.env["MEMLENS_SPEED_RUNS"] ?? 5);

interface Run {
  wallMs: number;
  maxRssBytes: number;
  stdout: string;
}

/** One CLI process (through rss-child.js, which runs the same entry point and reports its own max RSS). */
function cliOnce(args: string[]): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [RSS_CHILD, ...args], { maxBuffer: 1 << 30, encoding: "utf8" });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`memlens ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const m = /MEMLENS_MAXRSS (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no RSS report from the child: ${r.stderr}`);
  return { wallMs, maxRssBytes: Number(m[1]), stdout: r.stdout };
}

function analyzeOnce(model: string): Run {
  const r = cliOnce(["analyze", model, "--json"]);
  JSON.parse(r.stdout); // the contract: one JSON object
  return r;
}

function peerOnce(model: string): number {
  const t0 = performance.now();
  const r = spawnSync(PYTHON, [PEER, model], { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`python onnx on ${model} exited ${r.status}: ${r.stderr.trim().split("\n").pop()}`);
  return ms;
}

/** Python onnx from Debian (installed with apt-get when missing); undefined when it is there, else why not. */
function ensurePeer(): string | undefined {
  const has = () => spawnSync(PYTHON, ["-c", "import onnx, onnx.shape_inference"]).status === 0;
  if (has()) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (...args: string[]) => spawnSync("apt-get", args, { encoding: "utf8", env, timeout: 600_000 });
  if (apt("install", "-y", "-qq", "python3-onnx").status !== 0) {
    apt("update", "-qq");
    apt("install", "-y", "-qq", "python3-onnx");
  }
  return has() ? undefined : `${PYTHON} has no onnx and 'apt-get install python3-onnx' did not install it`;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

const results: { what: string; value: string; target: string; ok: boolean }[] = [];
const cpu = cpus()[0]?.model ?? "unknown CPU";
const dir = mkdtempSync(join(tmpdir(), "memlens-speed-"));
try {
  const peerMissing = ensurePeer();
  const chain = join(dir, "chain-100k.onnx");
  writeModelFile(chain, chainGraph());
  const residual = join(dir, "residual-100k.onnx");
  writeModelFile(residual, residualGraph());
  const llamaModel = llamaGraph();
  const llama = join(dir, "llama-1b-dynamo.onnx");
  writeModelFile(llama, llamaModel, [], { scopes: true });
  const models = [
    { name: "onnx-dynamo/gpt2.onnx", path: GPT2 },
    { name: `dynamo-style llama 1B (${llamaModel.graph.nodes.length} nodes)`, path: llama },
    { name: "100,000-node chain", path: chain },
    { name: "100,000-node residual graph", path: residual },
  ];
  console.log(`memlens analyze --json against python onnx load + infer_shapes(data_prop=True), whole process, best of ${RUNS} (${cpu}, ${cpus().length} cores)`);
  console.log(`| model | file | memlens | RSS | python onnx | memlens / onnx |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const m of models) {
    analyzeOnce(m.path); // warm the file cache, as a user's second run would be
    if (!peerMissing) peerOnce(m.path);
    const ours: Run[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(analyzeOnce(m.path));
      if (!peerMissing) theirs.push(peerOnce(m.path));
    }
    const best = ours.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const peer = peerMissing ? undefined : Math.min(...theirs);
    const ratio = peer === undefined ? undefined : best.wallMs / peer;
    const size = `${(statSync(m.path).size / 2 ** 20).toFixed(1)} MiB`;
    console.log(`| ${m.name} | ${size} | ${s(best.wallMs)} | ${mib(best.maxRssBytes)} | ${peer === undefined ? "-" : s(peer)} | ${ratio === undefined ? "-" : ratio.toFixed(2)} |`);
    results.push({
      what: `memlens/onnx, ${m.name}`,
      value: ratio === undefined ? `no peer: ${peerMissing}` : `${ratio.toFixed(2)} (${s(best.wallMs)} / ${s(peer!)})`,
      target: "<= 1.0",
      ok: ratio !== undefined && ratio <= 1.0,
    });
  }
  rmSync(chain);
  rmSync(residual);

  // In one process: load once, then analyze 20 times (shapes plus the pytorch-cuda memory estimate).
  const loaded = loadModelFile(GPT2);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    analyzeModel(loaded.model, { openExternal: loaded.openExternal, memory: true });
    times.push(performance.now() - t0);
  }
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    loadModelFile(GPT2).source.close();
    loads.push(performance.now() - t0);
  }
  loaded.source.close();
  results.push({
    what: "in-process analyze gpt2.onnx x20 (median)",
    value: `${median(times).toFixed(1)} ms (first ${times[0]!.toFixed(1)} ms; reading the file ${median(loads).toFixed(1)} ms more)`,
    target: "<= 30 ms",
    ok: median(times) <= 30,
  });

  const page = await pageTimes(GPT2, 5, join(dir, "index.html"));
  results.push(typeof page === "string"
    ? { what: "web page: gpt2.onnx chosen -> report drawn", value: `not measured: ${page}`, target: "<= 150 ms", ok: false }
    : { what: "web page: gpt2.onnx chosen -> report drawn (median of 5)", value: `${median(page).toFixed(0)} ms (first ${page[0]!.toFixed(0)} ms)`, target: "<= 150 ms", ok: median(page) <= 150 });

  const bigWeights = join(dir, "1gb-weights.onnx");
  const size = writeModelFile(bigWeights, oneGigabyteOfWeights());
  const heavy = analyzeOnce(bigWeights);
  results.push({
    what: `analyze --json, ${(size / 2 ** 30).toFixed(2)} GiB embedded weights`,
    value: `peak RSS ${mib(heavy.maxRssBytes)} (${s(heavy.wallMs)})`,
    target: "< 150 MB",
    ok: heavy.maxRssBytes < 150e6,
  });
  rmSync(bigWeights);

  const seed = Array.from({ length: 3 }, () => cliOnce([])).sort((a, b) => a.wallMs - b.wallMs)[1]!;
  results.push({ what: "memlens (no arguments: the seed's three examples, median of 3)", value: `${s(seed.wallMs)} (RSS ${mib(seed.maxRssBytes)})`, target: "< 5 s", ok: seed.wallMs < 5000 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log("");
const w = Math.max(...results.map((r) => r.what.length));
for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.what.padEnd(w)}  ${r.value.padEnd(58)} target ${r.target}`);
if (results.some((r) => !r.ok)) process.exitCode = 1;
