/**
 * Overhead of memlens's batched predict against calling onnxruntime-node directly on the same tensors.
 * memlens: model.predict(images) (packing pixels into the batch tensor, the run, softmax and top-k).
 * direct: session.run on the already-packed tensor, nothing else. Same model file, same provider (CPU),
 * same optimization level. The two alternate call by call, and the ratio is the median over adjacent
 * pairs: on a shared machine the load changes between seconds, not between two calls in a row.
 *
 *   npm run bench:overhead [-- --rounds N] [--threads N]   (--threads: intra-op threads of both sessions, default 1; 0: onnxruntime's default)
 */
import { cpus, loadavg } from "node:os";
import { loadModel } from "../src/index.js";
import { BUNDLED_MODEL } from "../src/cli/seed.js";
import { fitImage } from "../src/runtime/image.js";
import { loadOrt } from "../src/runtime/ort.js";
import { packBatch } from "../src/runtime/preprocess.js";
import { readFashionMnist } from "../test/fashion-data.js";

/** Batch 1 is shown for the per-call cost; the target is on batched predict. */
const BATCHES = [1, 32, 128];
const TARGET = 0.9;

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 40;
  // One intra-op thread per session by default: both sessions live in this process, and with onnxruntime's
  // default pools (one spinning thread per core) each steals the cores of the other right after it ran, so
  // the ratio would measure the two pools' contention, not memlens. `--threads 0` keeps onnxruntime's default.
  const threadsArg = process.argv.indexOf("--threads");
  const threadsGiven = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 1;
  const threads = threadsGiven > 0 ? threadsGiven : undefined;
  const { images } = readFashionMnist("t10k", Math.max(...BATCHES));
  const model = await loadModel(BUNDLED_MODEL, { provider: "cpu", ...(threads ? { intraOpThreads: threads } : {}) });
  const ort = await loadOrt();
  const direct = await ort.InferenceSession.create(BUNDLED_MODEL, { graphOptimizationLevel: "all", executionProviders: ["cpu"], logSeverityLevel: 3, ...(threads ? { intraOpNumThreads: threads } : {}) });
  const spec = model.imageSpec();
  console.log(`model ${model.summary.file}, CPU provider, ${threads ?? "default"} intra-op threads, ${rounds} rounds per batch size (after 3 warm-up rounds)`);
  console.log("batch   memlens img/s   direct img/s   wall ratio   cpu ratio   (ratios: memlens throughput / direct)");
  let worstBatched = Infinity;
  for (const batch of BATCHES) {
    const batchImages = images.slice(0, batch);
    const fitted = await Promise.all(batchImages.map((i) => fitImage(i, spec)));
    const packed = packBatch(fitted, spec);
    const tensor = new ort.Tensor("float32", packed.data as Float32Array, packed.dims);
    const runMemlens = async () => {
      await model.predict(batchImages, { top: 5 });
    };
    const runDirect = async () => {
      await direct.run({ [spec.input]: tensor });
    };
    for (let i = 0; i < 3; i++) {
      await runMemlens();
      await runDirect();
    }
    // Wall clock: adjacent pairs in both orders (the second call of a pair tends to be faster), the
    // ratio is the geometric mean of the two orders' medians.
    let tMemlens = 0;
    let tDirect = 0;
    const memlensFirst: number[] = [];
    const directFirst: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const first = i % 2 === 0;
      const a = performance.now();
      await (first ? runMemlens() : runDirect());
      const b = performance.now();
      await (first ? runDirect() : runMemlens());
      const c = performance.now();
      const [m, d] = first ? [b - a, c - b] : [c - b, b - a];
      tMemlens += m;
      tDirect += d;
      (first ? memlensFirst : directFirst).push(d / m);
    }
    const wallRatio = Math.sqrt(median(memlensFirst) * median(directFirst));
    // CPU time of this process (all threads): what the two cost, whatever else the machine runs.
    // Interleaved call by call, so that a change in load hits both sides alike.
    let cpuMemlens = 0;
    let cpuDirect = 0;
    for (let i = 0; i < rounds; i++) {
      cpuMemlens += await cpuOf(runMemlens);
      cpuDirect += await cpuOf(runDirect);
    }
    const cpuRatio = cpuDirect / cpuMemlens;
    const memlensRate = (batch * rounds) / (tMemlens / 1000);
    const directRate = (batch * rounds) / (tDirect / 1000);
    if (batch > 1) worstBatched = Math.min(worstBatched, wallRatio);
    console.log(`${String(batch).padStart(5)}   ${memlensRate.toFixed(0).padStart(13)}   ${directRate.toFixed(0).padStart(12)}   ${wallRatio.toFixed(3).padStart(10)}   ${cpuRatio.toFixed(3).padStart(9)}`);
  }
  console.log(`batched (>1) worst wall ratio ${worstBatched.toFixed(3)} (target >= ${TARGET}: within 10% of onnxruntime-node): ${worstBatched >= TARGET ? "ok" : "MISSED"}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  await model.close();
  await direct.release();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function cpuOf(fn: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
