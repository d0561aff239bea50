/**
 * Issue 12's table of hostile inputs through the CLI: each case must end within 2 s and under 300 MB of RSS,
 * with exit 2 and one line on stderr (or exit 0 where the file is valid and a bound applies with a warning).
 * RSS is the child's peak (GNU time's %M when /usr/bin/time is there, else VmHWM polled from /proc).
 * HOSTILE_ONLY=<substring> runs the matching cases only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeHostileCases, type HostileCase } from "./hostile.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CASE_LIMIT_MS = 2000;
const RSS_LIMIT_MB = 300;
/** A case still running after this is stopped (and fails): long enough to measure a before-number. */
const KILL_MS = Number(process.env["HOSTILE_KILL_MS"] ?? 10_000);
const GNU_TIME = "/usr/bin/time";

/** As in the fuzz test: wall time on a shared machine is scaled by the run queue per core, never below the contract. */
function caseLimitMs(): number {
  return CASE_LIMIT_MS * Math.max(1, loadavg()[0]! / availableParallelism());
}

export interface HostileOutcome {
  c: HostileCase;
  code: number | null;
  signal: string | null;
  ms: number;
  rssMb: number;
  stdout: string;
  stderr: string;
}

/** A case past this RSS is stopped at once (the machine is shared); its peak then reads as at least this. */
const MEMORY_KILL_MB = 1536;

/** The pid of `pid`'s first child (GNU time's node), or pid itself without one. */
function childOf(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    return kids.length > 0 ? Number(kids[0]) : pid;
  } catch {
    return pid;
  }
}

function peakKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Run memlens on one case in its own process group (killed whole on a hang or a runaway), with its peak RSS in MB. */
export function runHostile(c: HostileCase, dir: string): Promise<HostileOutcome> {
  return new Promise((resolve) => {
    const timeFile = join(dir, `time-${Math.random().toString(36).slice(2)}`);
    const useTime = existsSync(GNU_TIME);
    const argv = [process.execPath, join(ROOT, "bin/memlens.js"), ...c.args];
    const [cmd, ...rest] = useTime ? [GNU_TIME, "-f", "%M", "-o", timeFile, ...argv] : argv;
    const child = spawn(cmd!, rest, { stdio: "pipe", detached: true });
    const t0 = performance.now();
    let stdout = "";
    let stderr = "";
    let polledKb = 0;
    let killedFor = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const stop = (why: string) => {
      if (killedFor) return;
      killedFor = why;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    };
    const poll = setInterval(() => {
      polledKb = Math.max(polledKb, peakKb(useTime ? childOf(child.pid!) : child.pid!));
      if (polledKb > MEMORY_KILL_MB * 1024) stop(`killed at ${MEMORY_KILL_MB} MB`);
    }, 10);
    const killer = setTimeout(() => stop(`killed at ${KILL_MS} ms`), KILL_MS);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      clearInterval(poll);
      const ms = performance.now() - t0;
      let kb = polledKb;
      if (useTime && existsSync(timeFile)) {
        const m = /(\d+)\s*$/.exec(readFileSync(timeFile, "utf8"));
        if (m) kb = Math.max(kb, Number(m[1]));
      }
      resolve({ c, code: killedFor ? null : code, signal: killedFor || signal, ms, rssMb: kb / 1024, stdout, stderr });
    });
  });
}

function verdict(o: HostileOutcome, limitMs: number): string[] {
  const bad: string[] = [];
  const lines = o.stderr.split("\n").filter((l) => l.trim() !== "");
  if (o.ms > limitMs) bad.push(`took ${o.ms.toFixed(0)} ms (limit ${limitMs.toFixed(0)})`);
  if (o.rssMb > RSS_LIMIT_MB) bad.push(`peak RSS ${o.rssMb.toFixed(0)} MB (limit ${RSS_LIMIT_MB})`);
  if (o.code === 2) {
    if (lines.length !== 1) bad.push(`exit 2 with ${lines.length} stderr lines: ${o.stderr.slice(0, 200)}`);
  } else if (o.code === 0 && o.c.mayAnalyse) {
    if (lines.length > 1) bad.push(`exit 0 with ${lines.length} stderr lines`);
  } else bad.push(`exit ${o.code ?? o.signal}: ${o.stderr.slice(0, 200)}`);
  if (/\n\s+at .+:\d+:\d+\)?/.test(o.stderr)) bad.push("stack trace on stderr");
  return bad;
}

/** Cases not bounded yet, skipped and named in the output (none now); HOSTILE_ALL=1 runs them too. */
const NOT_YET_BOUNDED = new Set<string>([]);

test("issue 12's hostile inputs: exit 2 (or 0 with a bound), within 2 s, under 300 MB, one line", async (t) => {
  const dir = tempDir("hostile");
  const only = process.env["HOSTILE_ONLY"];
  const all = process.env["HOSTILE_ALL"] === "1";
  const cases = writeHostileCases(dir).filter((c) => (only === undefined || c.name.includes(only)) && (all || !NOT_YET_BOUNDED.has(c.name)));
  if (!all && NOT_YET_BOUNDED.size > 0) t.diagnostic(`not bounded yet, skipped: ${[...NOT_YET_BOUNDED].join(", ")}`);
  const failures: string[] = [];
  // One at a time, so each case's time and memory are its own.
  for (const c of cases) {
    const o = await runHostile(c, dir);
    const bad = verdict(o, caseLimitMs());
    const first = o.stderr.split("\n").find((l) => l.trim() !== "") ?? "";
    t.diagnostic(`${c.name}: exit ${o.code ?? o.signal}, ${o.ms.toFixed(0)} ms, ${o.rssMb.toFixed(0)} MB: ${first.slice(0, 160)}`);
    if (bad.length > 0) failures.push(`${c.name}: ${bad.join("; ")}`);
  }
  assert.deepEqual(failures, []);
});

test("in process: subgraph count and duplicate metadata refused at decode; nested Loops stop at the work budget", async () => {
  const { openModel } = await import("../src/formats/index.js");
  const { MemorySource } = await import("../src/formats/source.js");
  const { MAX_SUBGRAPHS } = await import("../src/formats/onnx/limits.js");
  const { inferModel } = await import("../src/shapes/engine.js");
  const { onnxTensorValues } = await import("../src/formats/onnx/values.js");
  const { manySubgraphsOnnx, nestedLoopsOnnx, symbolBombOnnx } = await import("./hostile.js");
  const open = (bytes: Uint8Array) => openModel(new MemorySource(bytes, "h.onnx"), "h.onnx");
  assert.throws(() => open(manySubgraphsOnnx(MAX_SUBGRAPHS + 1)), new RegExp(`more than ${MAX_SUBGRAPHS} subgraphs`));
  assert.doesNotThrow(() => open(manySubgraphsOnnx(1000)));
  // Two metadata_props with one key: onnx's checker refuses it, so does the reader.
  const entry = (k: string, v: string) => [0x72, k.length + v.length + 4, 0x0a, k.length, ...Buffer.from(k), 0x12, v.length, ...Buffer.from(v)];
  const base = symbolBombOnnx(20);
  const dup = new Uint8Array([...base, ...entry("author", "a"), ...entry("author", "b")]);
  assert.throws(() => open(dup), /metadata_props key 'author' appears twice/);
  assert.equal(open(new Uint8Array([...base, ...entry("author", "a")])).metadata["author"], "a");
  const t0 = performance.now();
  const r = inferModel(open(nestedLoopsOnnx(30)), { tensorValues: onnxTensorValues() });
  assert.ok(performance.now() - t0 < 5000, "nested Loops: bounded by the work budget");
  assert.ok(r.warnings.some((w) => /subgraph inference stopped/.test(w)), r.warnings.slice(0, 3).join("\n"));
  const small = inferModel(open(nestedLoopsOnnx(3)), { tensorValues: onnxTensorValues() });
  assert.ok(!small.warnings.some((w) => /subgraph inference stopped/.test(w)), "three levels stay within the budget");
});
