/**
 * Process memory during a profiled call. onnxruntime runs block the main thread, so a timer there would
 * see nothing: a worker thread samples the process RSS every millisecond into shared memory. On Linux
 * the kernel's own high-water mark (VmHWM) is reset before the call and read after it, which catches a
 * peak shorter than a sample interval; the larger of the two is the peak.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

export interface RssMeasurement {
  /** RSS when measuring started, bytes. */
  before: number;
  /** Highest RSS seen during the call, bytes. */
  peak: number;
  /** Highest sampled RSS, bytes (the sampler alone). */
  sampledPeak: number;
  samples: number;
  /** Whether the kernel's high-water mark contributed (Linux, /proc writable). */
  kernelPeak: boolean;
}

const SAMPLER = `
const { workerData } = require("node:worker_threads");
const cells = new Float64Array(workerData);
const flag = new Int32Array(workerData, 16, 1);
while (Atomics.load(flag, 0) === 0) {
  const r = process.memoryUsage.rss();
  if (r > cells[0]) cells[0] = r;
  cells[1] += 1;
  Atomics.wait(flag, 0, 0, 1);
}
`;

export class RssSampler {
  private readonly shared = new SharedArrayBuffer(24);
  private worker: Worker | undefined;
  private before = 0;
  private kernel = false;

  async start(): Promise<void> {
    this.before = process.memoryUsage.rss();
    this.kernel = resetHighWaterMark();
    this.worker = new Worker(SAMPLER, { eval: true, workerData: this.shared });
    await new Promise<void>((resolve, reject) => {
      this.worker!.once("online", () => resolve());
      this.worker!.once("error", reject);
    });
    // Sampling must never keep the process alive on its own (unref only once it runs: before that,
    // the pending start is the only thing the event loop has to wait for).
    this.worker.unref();
  }

  async stop(): Promise<RssMeasurement> {
    const cells = new Float64Array(this.shared, 0, 2);
    const flag = new Int32Array(this.shared, 16, 1);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await this.worker?.terminate();
    const hwm = this.kernel ? highWaterMark() : undefined;
    const sampledPeak = Math.max(cells[0]!, this.before);
    return {
      before: this.before,
      peak: Math.max(sampledPeak, hwm ?? 0, process.memoryUsage.rss()),
      sampledPeak,
      samples: cells[1]!,
      kernelPeak: hwm !== undefined,
    };
  }
}

/** Linux: writing 5 to clear_refs resets VmHWM to the current RSS (since Linux 4.0). */
function resetHighWaterMark(): boolean {
  if (process.platform !== "linux") return false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return highWaterMark() !== undefined;
  } catch {
    return false;
  }
}

function highWaterMark(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
