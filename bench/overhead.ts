/**
 * Overhead of memlens's batched predict against calling onnxruntime-node directly on the same tensors.
 * memlens: model.predict(images) (packing pixels into the batch tensor, the run, softmax and top-k).
 * direct: session.run on the already-packed tensor, nothing else. Same model file, same provider (CPU),
 * same optimization level. The two alternate call by call, and the ratio is the median over adjacent
 * pairs: on a shared machine the load changes between seconds, not between two calls in a row.
 *
 *   npm run bench:overhead [-- --rounds N]
 */
import { cpus, loadavg } from "node:os";
import { loadModel } from "../src/index.js";
import { BUNDLED_MODEL } from "../src/cli/seed.js";
import { fitImage } from "../src/runtime/image.js";
import { loadOrt } from "../src/runtime/ort.js";
import { packBatch } from "../src/runtime/preprocess.js";
import { readFashionMnist } from "../test/fashion-data.js";

const BATCHES = [1, 32, 128];
const TARGET = 0.9;

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 40;
  const { images } = readFashionMnist("t10k", Math.max(...BATCHES));
  const model = await loadModel(BUNDLED_MODEL, { provider: "cpu" });
  const ort = await loadOrt();
  const direct = await ort.InferenceSession.create(BUNDLED_MODEL, { graphOptimizationLevel: "all", executionProviders: ["cpu"], logSeverityLevel: 3 });
  const spec = model.imageSpec();
  console.log(`model ${model.summary.file}, CPU provider, ${rounds} rounds per batch size (after 3 warm-up rounds)`);
  console.log("batch   memlens img/s   direct img/s   throughput ratio memlens/direct (median of pairs)");
  let worst = Infinity;
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
    let tMemlens = 0;
    let tDirect = 0;
    const pairRatios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate the order too, so neither always runs on a warmer cache.
      const first = i % 2 === 0;
      const a = performance.now();
      await (first ? runMemlens() : runDirect());
      const b = performance.now();
      await (first ? runDirect() : runMemlens());
      const c = performance.now();
      const [m, d] = first ? [b - a, c - b] : [c - b, b - a];
      tMemlens += m;
      tDirect += d;
      pairRatios.push(d / m);
    }
    const memlensRate = (batch * rounds) / (tMemlens / 1000);
    const directRate = (batch * rounds) / (tDirect / 1000);
    pairRatios.sort((x, y) => x - y);
    const ratio = pairRatios[Math.floor(pairRatios.length / 2)]!;
    worst = Math.min(worst, ratio);
    console.log(`${String(batch).padStart(5)}   ${memlensRate.toFixed(0).padStart(13)}   ${directRate.toFixed(0).padStart(12)}   ${ratio.toFixed(3).padStart(8)}`);
  }
  console.log(`worst ratio ${worst.toFixed(3)} (target >= ${TARGET}: within 10% of onnxruntime-node): ${worst >= TARGET ? "ok" : "MISSED"}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  await model.close();
  await direct.release();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
