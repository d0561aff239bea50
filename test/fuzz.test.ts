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
import { isMainThread, workerData } from "node:worker_threads";
import { mutate, parseTree } from "../src/formats/onnx/fuzzing.js";
import { FIXTURES } from "../bench/shared.js";
import { caseLimitMs, runCasesHere, runWatched, WATCHDOG_MS, type Outcome as CaseOutcome } from "./fuzz-harness.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SEED = Number(process.env["FUZZ_SEED"] ?? 20261126);
const IN_PROCESS_CASES = 1000;
const CLI_CASES = 50;
/** A few more through `layers`, whose terminal table is a path of its own. */
const CLI_LAYERS_CASES = 10;
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

/** An ONNX case's outcome also names the fixture it mutated. */
interface Outcome extends CaseOutcome {
  file: string;
}

// ---- worker side: run cases [from, to) and report each one ----
if (!isMainThread && (workerData as { fuzz?: boolean })?.fuzz) {
  const { from, to, only } = workerData as { from: number; to: number; only: number | undefined };
  const { openModel } = await import("../src/formats/index.js");
  const { MemorySource } = await import("../src/formats/source.js");
  const { analyzeModel } = await import("../src/analyze.js");
  const files = fixtures();
  const cache = new Map();
  await runCasesHere(
    from,
    to,
    only,
    (i) => caseBytes(files, cache, i),
    (c) => analyzeModel(openModel(new MemorySource(c.bytes, "fuzz.onnx"), "fuzz.onnx"), { batch: 2 }),
    (c) => ({ file: c.file }),
  );
}

/** Run cases [from, to) in one worker; a hang or a heap blow-up becomes a failed outcome, then the rest go on. */
function runWorker(from: number, to: number, only: number | undefined): Promise<Outcome[]> {
  return runWatched<Outcome>(new URL(import.meta.url), (at) => ({ fuzz: true, from: at, to, only }), from, to, (i, why) => {
    // Rebuild the case here (it is deterministic) so the failure names the file and the mutation.
    const c = caseBytes(fixtures(), new Map(), i);
    return { i, file: c.file, what: c.what, ms: WATCHDOG_MS, result: "crash", detail: why };
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
