/**
 * Fuzz: mutated copies of real models through loading and shape inference, in-process and through the CLI.
 * Every case must end within 2 s with a result or a typed error (MemlensError; the CLI: exit 0, or exit 2
 * with exactly one line on stderr), never another exception, a hang or a stack trace.
 *
 * In-process cases run in worker threads so that a hang can be stopped (worker.terminate interrupts
 * synchronous code) and a runaway allocation shows as the worker running out of its heap limit.
 * Reproduce one case: FUZZ_ONLY=<index> node --test dist/test/fuzz.test.js (FUZZ_SEED changes the run).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { mutate, parseTree } from "../src/formats/onnx/fuzzing.js";
import { FIXTURES } from "../bench/shared.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SEED = Number(process.env["FUZZ_SEED"] ?? 20261126);
const IN_PROCESS_CASES = 1000;
const CLI_CASES = 50;
/** A few more through `layers`, whose terminal table is a path of its own. */
const CLI_LAYERS_CASES = 10;
/** The contract: each case ends within this, on an otherwise idle machine. */
const CASE_LIMIT_MS = 2000;
/**
 * Wall time stretches when other processes share the cores (a parallel test run, a loaded CI box): the
 * limit is scaled by the run-queue length per core, never below the contract.
 */
function caseLimitMs(): number {
  return CASE_LIMIT_MS * Math.max(1, loadavg()[0]! / availableParallelism());
}
/** A worker silent for this long is hung: it is stopped and the case fails. */
const WATCHDOG_MS = 10_000;
/** A model that makes the reader allocate past this is an unbounded allocation. */
const WORKER_HEAP_MB = 1024;

function fixtures(): string[] {
  const out: string[] = [];
  for (const d of ["onnx-legacy", "onnx-dynamo"]) {
    const dir = join(FIXTURES, d);
    for (const f of readdirSync(dir).sort()) if (f.endsWith(".onnx")) out.push(join(dir, f));
  }
  out.push(join(ROOT, "models/fashion-mobilenetv2/model.onnx"));
  return out;
}

/** Case `i` mutates fixture `i mod n` with seed SEED + i: the same bytes on every run. */
function caseBytes(files: string[], cache: Map<string, { bytes: Uint8Array; tree: ReturnType<typeof parseTree> }>, i: number) {
  const file = files[i % files.length]!;
  let entry = cache.get(file);
  if (!entry) {
    const bytes = new Uint8Array(readFileSync(file));
    entry = { bytes, tree: parseTree(bytes) };
    cache.set(file, entry);
  }
  return { file, ...mutate(entry.bytes, entry.tree, SEED + i) };
}

interface Outcome {
  i: number;
  file: string;
  what: string[];
  ms: number;
  result: "ok" | "typed" | "crash";
  detail: string;
}

// ---- worker side: run cases [from, to) and report each one ----
if (!isMainThread && (workerData as { fuzz?: boolean })?.fuzz) {
  const { from, to, only } = workerData as { from: number; to: number; only: number | undefined };
  const { openModel } = await import("../src/formats/index.js");
  const { MemorySource } = await import("../src/formats/source.js");
  const { analyzeModel } = await import("../src/analyze.js");
  const { MemlensError } = await import("../src/errors.js");
  const files = fixtures();
  const cache = new Map();
  for (let i = from; i < to; i++) {
    if (only !== undefined && i !== only) continue;
    const c = caseBytes(files, cache, i);
    parentPort!.postMessage({ begin: i });
    const t0 = performance.now();
    let result: Outcome["result"] = "ok";
    let detail = "";
    try {
      const model = openModel(new MemorySource(c.bytes, "fuzz.onnx"), "fuzz.onnx");
      analyzeModel(model, { batch: 2 });
    } catch (e) {
      if (e instanceof MemlensError) {
        result = "typed";
        detail = e.message;
      } else {
        result = "crash";
        detail = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split("\n").slice(1, 6).join("\n")}` : String(e);
      }
    }
    const outcome: Outcome = { i, file: c.file, what: c.what, ms: performance.now() - t0, result, detail };
    parentPort!.postMessage({ outcome });
  }
  parentPort!.postMessage({ finished: true });
}

/** Run cases [from, to) in one worker; a hang or a heap blow-up becomes a failed outcome, then the rest go on. */
function runWorker(from: number, to: number, only: number | undefined): Promise<Outcome[]> {
  return new Promise((resolve) => {
    const outcomes: Outcome[] = [];
    let current = from;
    let timer: NodeJS.Timeout | undefined;
    const start = (at: number) => {
      if (at >= to) return resolve(outcomes);
      const w = new Worker(new URL(import.meta.url), {
        workerData: { fuzz: true, from: at, to, only },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      });
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // Rebuild the case here (it is deterministic) so the failure names the file and the mutation.
        const c = caseBytes(fixtures(), new Map(), current);
        outcomes.push({ i: current, file: c.file, what: c.what, ms: WATCHDOG_MS, result: "crash", detail: why });
        void w.terminate();
        start(current + 1);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(`no answer within ${WATCHDOG_MS} ms (hang)`), WATCHDOG_MS);
      };
      arm();
      w.on("message", (m: { begin?: number; outcome?: Outcome; finished?: boolean }) => {
        if (m.begin !== undefined) {
          current = m.begin;
          arm();
        } else if (m.outcome) outcomes.push(m.outcome);
        else if (m.finished) {
          done = true;
          clearTimeout(timer);
          void w.terminate();
          resolve(outcomes);
        }
      });
      w.on("error", (e: Error) => fail(`worker died: ${e.message}`));
      w.on("exit", (code) => {
        if (!done) fail(`worker exited with code ${code}`);
      });
    };
    start(from);
  });
}

function describe(o: Outcome): string {
  return `case ${o.i} (${o.file.split("/").slice(-2).join("/")}; ${o.what.join("; ")}): ${o.result} in ${o.ms.toFixed(0)} ms: ${o.detail}`;
}

if (isMainThread) {
  const only = process.env["FUZZ_ONLY"] === undefined ? undefined : Number(process.env["FUZZ_ONLY"]);

  test(`${IN_PROCESS_CASES} mutated models through loading and shape inference`, async (t) => {
    const half = IN_PROCESS_CASES / 2;
    const results = (await Promise.all([runWorker(0, half, only), runWorker(half, IN_PROCESS_CASES, only)])).flat();
    if (only === undefined) assert.equal(results.length, IN_PROCESS_CASES);
    const limit = caseLimitMs();
    const bad = results.filter((o) => o.result === "crash" || o.ms > limit);
    const typed = results.filter((o) => o.result === "typed").length;
    const slowest = results.reduce((a, o) => (o.ms > a.ms ? o : a), results[0]!);
    t.diagnostic(`${results.length - typed} analysed, ${typed} refused with a typed error; slowest case ${slowest.i}: ${slowest.ms.toFixed(0)} ms`);
    // The mutations must bite: most cases should be refused, some must still analyse.
    if (only === undefined) {
      assert.ok(typed > IN_PROCESS_CASES * 0.2, `only ${typed} cases were refused: the mutations are too weak`);
      assert.ok(results.length - typed - bad.length > 0, "no mutated case analysed at all");
    }
    assert.deepEqual(bad.map(describe), []);
  });

  test(`${CLI_CASES} mutated models through analyze --json and ${CLI_LAYERS_CASES} through layers: exit 0 or 2, one line, no stack trace`, async (t) => {
    const dir = tempDir("fuzz");
    try {
      const files = fixtures();
      const cache = new Map();
      const cases = Array.from({ length: CLI_CASES + CLI_LAYERS_CASES }, (_, k) => {
        const i = 100_000 + k;
        const c = caseBytes(files, cache, i);
        const path = join(dir, `case-${i}.onnx`);
        writeFileSync(path, c.bytes);
        const args = k < CLI_CASES ? ["analyze", path, "--json"] : ["layers", path];
        return { i, path, c, args };
      });
      const failures: string[] = [];
      let slowestMs = 0;
      const runOne = (k: (typeof cases)[number]) =>
        new Promise<void>((resolve) => {
          const t0 = performance.now();
          const child = spawn(process.execPath, [join(ROOT, "bin/memlens.js"), ...k.args], { stdio: "pipe" });
          let out = "";
          let err = "";
          child.stdout.on("data", (d: Buffer) => (out += d));
          child.stderr.on("data", (d: Buffer) => (err += d));
          const killer = setTimeout(() => child.kill("SIGKILL"), WATCHDOG_MS);
          child.on("close", (code) => {
            clearTimeout(killer);
            const ms = performance.now() - t0;
            slowestMs = Math.max(slowestMs, ms);
            const why = `case ${k.i} ${k.args[0]} (${k.c.file.split("/").pop()}; ${k.c.what.join("; ")})`;
            const lines = err.split("\n").filter((l) => l !== "");
            const limit = caseLimitMs();
            if (ms > limit) failures.push(`${why}: took ${ms.toFixed(0)} ms (limit ${limit.toFixed(0)} ms at this load)`);
            if (code === 0 && k.args[0] === "analyze") {
              try {
                JSON.parse(out);
              } catch {
                failures.push(`${why}: exit 0 but stdout is not one JSON object`);
              }
            } else if (code === 0) {
              if (!/^layer\s+op\s/m.test(out)) failures.push(`${why}: exit 0 but no table on stdout`);
            } else if (code === 2) {
              if (lines.length !== 1) failures.push(`${why}: exit 2 with ${lines.length} stderr lines: ${err.slice(0, 300)}`);
            } else failures.push(`${why}: exit ${code}: ${err.slice(0, 300)}`);
            if (/\n\s+at .+:\d+:\d+\)?/.test(err)) failures.push(`${why}: stack trace on stderr`);
            resolve();
          });
        });
      // One at a time: each case's wall time is then its own.
      for (const k of cases) await runOne(k);
      t.diagnostic(`slowest CLI case: ${slowestMs.toFixed(0)} ms (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
      assert.deepEqual(failures, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
