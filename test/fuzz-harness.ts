/**
 * What every fuzz test shares (test/fuzz.test.ts for ONNX, test/fuzz-formats.test.ts for the other formats):
 * the time contract, the watchdog and heap limit of the worker threads the cases run in, the worker-side loop
 * that classifies each case, and the main-side runner that turns a hang or a heap blow-up into a failed case and
 * goes on with the next one in a new worker. worker.terminate interrupts synchronous code, so a hang can be
 * stopped; a runaway allocation shows as the worker hitting its heap limit.
 */
import { availableParallelism, loadavg } from "node:os";
import { parentPort, Worker } from "node:worker_threads";
import { MemlensError } from "../src/errors.js";

/** The contract: each case ends within this, on an otherwise idle machine. */
export const CASE_LIMIT_MS = 2000;
/** A worker silent for this long is hung: it is stopped and the case fails. */
export const WATCHDOG_MS = 10_000;
/** An input that makes a reader allocate past this is an unbounded allocation. */
export const WORKER_HEAP_MB = 1024;

/**
 * Wall time stretches when other processes share the cores (a parallel test run, a loaded CI box): the
 * limit is scaled by the run-queue length per core, never below the contract.
 */
export function caseLimitMs(): number {
  return CASE_LIMIT_MS * Math.max(1, loadavg()[0]! / availableParallelism());
}

export interface Outcome {
  i: number;
  what: string[];
  ms: number;
  result: "ok" | "typed" | "crash";
  detail: string;
}

/**
 * Worker side: cases [from, to) (only `only` when set), each announced before it runs so the watchdog knows
 * which case hung, then reported with its time and whether it ended in a result, a typed error or a crash.
 */
export async function runCasesHere<C extends { what: string[] }>(
  from: number,
  to: number,
  only: number | undefined,
  make: (i: number) => C,
  run: (c: C) => unknown,
  extra: (c: C) => object = () => ({}),
): Promise<void> {
  for (let i = from; i < to; i++) {
    if (only !== undefined && i !== only) continue;
    const c = make(i);
    parentPort!.postMessage({ begin: i });
    const t0 = performance.now();
    let result: Outcome["result"] = "ok";
    let detail = "";
    try {
      await run(c);
    } catch (e) {
      if (e instanceof MemlensError) {
        result = "typed";
        detail = e.message.slice(0, 200);
      } else {
        result = "crash";
        detail = e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}\n${e.stack?.split("\n").slice(1, 6).join("\n")}` : String(e);
      }
    }
    parentPort!.postMessage({ outcome: { i, what: c.what, ms: performance.now() - t0, result, detail, ...extra(c) } });
  }
  parentPort!.postMessage({ finished: true });
}

/**
 * Main side: runs cases [from, to) in a worker started from `script` with `data(at)` as its workerData; a hang
 * or a dead worker becomes the outcome `failed(i, why)` and the rest go on in a fresh worker.
 */
export function runWatched<O extends Outcome>(script: URL, data: (at: number) => object, from: number, to: number, failed: (i: number, why: string) => O): Promise<O[]> {
  return new Promise((resolve) => {
    const outcomes: O[] = [];
    let current = from;
    let timer: NodeJS.Timeout | undefined;
    const start = (at: number) => {
      if (at >= to) return resolve(outcomes);
      const w = new Worker(script, { workerData: data(at), resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        outcomes.push(failed(current, why));
        void w.terminate();
        start(current + 1);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(`no answer within ${WATCHDOG_MS} ms (hang)`), WATCHDOG_MS);
      };
      arm();
      w.on("message", (m: { begin?: number; outcome?: O; finished?: boolean }) => {
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
