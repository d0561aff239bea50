/** Prints predicted vs measured training-step peaks (peak_delta_3) with errors and medians per exporter. */
import { median, resnet50Trace, trainRows, variantRows } from "./train-accuracy-lib.js";

const MB = 1e6;
const rows = await trainRows();
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
console.log("model          exporter optimizer batch  measured MB predicted MB  error   | after_forward meas/pred MB | after_step meas/pred MB");
for (const r of rows) {
  console.log(
    `${r.model.padEnd(14)} ${r.exporter.padEnd(8)} ${r.optimizer.padEnd(9)} ${String(r.batch).padStart(5)} ${(r.measured / MB).toFixed(1).padStart(11)} ${(r.predicted / MB).toFixed(1).padStart(12)} ${pct(r.error).padStart(7)}` +
      `   | ${(r.afterForward.measured / MB).toFixed(0)}/${(r.afterForward.predicted / MB).toFixed(0)} | ${(r.afterStep.measured / MB).toFixed(0)}/${(r.afterStep.predicted / MB).toFixed(0)}`,
  );
}
for (const ex of ["legacy", "dynamo"] as const) {
  const errs = rows.filter((r) => r.exporter === ex).map((r) => Math.abs(r.error));
  if (errs.length === 0) continue;
  console.log(`${ex}: ${errs.length} cases, median |error| ${(median(errs) * 100).toFixed(1)}%, worst ${(Math.max(...errs) * 100).toFixed(1)}%`);
}

const t = await resnet50Trace();
console.log(`\nresnet50 b32 Adam, third step, allocator trace vs simulation (dynamo export):`);
console.log(`  peak over the step's start: measured ${(t.measuredPeak / MB).toFixed(1)} MB at ${(100 * t.measuredPeakAt).toFixed(0)}% of the allocations, predicted ${(t.predictedPeak / MB).toFixed(1)} MB at ${(100 * t.predictedPeakAt).toFixed(0)}%`);
console.log(`  allocations >= 1 MiB: measured ${t.measuredLarge}, predicted ${t.predictedLarge}, in the same order ${t.commonLarge}`);
for (const [size, [m, p]] of [...t.bySize].sort((a, b) => b[0] - a[0])) console.log(`  ${(size / MB).toFixed(2).padStart(8)} MB: measured ${m}, predicted ${p}`);

const variants = await variantRows();
if (variants.length === 0) console.log("\nno bench/groundtruth/train-*.json yet: run bench/measure-train.py on a CUDA machine to check mixed precision, checkpointing and LoRA");
else {
  console.log("\ntraining variants (bench/measure-train.py), dynamo exports:");
  const phase = ([m, p]: [number, number]): string => `${(m / MB).toFixed(0)}/${(p / MB).toFixed(0)}`;
  for (const r of variants) {
    console.log(
      `  ${r.model.padEnd(12)} ${r.variant.padEnd(14)} ${r.optimizer.padEnd(8)} b${r.batch}  measured ${(r.measured / MB).toFixed(1)} MB  predicted ${(r.predicted / MB).toFixed(1)} MB  ${pct(r.error)}` +
        `  | after forward/backward/step meas/pred MB ${phase(r.phases.forward)} ${phase(r.phases.backward)} ${phase(r.phases.step)}  (${r.file})`,
    );
  }
  console.log(`  median |error| ${(median(variants.map((r) => Math.abs(r.error))) * 100).toFixed(1)}%`);
}
