/** Prints predicted vs measured training-step peaks (peak_delta_3) with errors and medians per exporter. */
import { median, trainRows } from "./train-accuracy-lib.js";

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
