/**
 * `npm run bench:accuracy`: every fixture with a GPU measurement, predicted vs measured side by side with
 * relative errors, then the medians; writes the summary to bench/ACCURACY.md.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { available, compareAll, GROUND_TRUTH, summarise, type Comparison } from "./accuracy-lib.js";

if (!available()) {
  console.error(`ground truth not found: ${GROUND_TRUTH} (set MEMLENS_SHARED)`);
  process.exit(1);
}
const t0 = performance.now();
const rows = await compareAll();
const mb = (n: number) => (n / 2 ** 20).toFixed(1);
const pct = (e: number) => `${e >= 0 ? "+" : ""}${(100 * e).toFixed(1)}%`;
const header = ["metric", "model", "export", "dtype", "batch", "input", "predicted MiB", "measured MiB", "error"];
const line = (c: Comparison) => [c.metric, c.model, c.export, c.dtype, String(c.batch), c.extra, mb(c.predicted), mb(c.measured), pct(c.error)];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => line(r)[i]!.length)));
const fmt = (cells: string[]) => cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
console.log(fmt(header));
for (const r of rows) console.log(fmt(line(r)));
const summary = summarise(rows);
console.log("");
for (const s of summary) console.log(`${s.label}: ${s.rows} rows, median |error| ${pct(s.medianAbs).slice(1)}, worst ${pct(s.maxAbs).slice(1)}`);
const worst = [...rows].filter((r) => r.metric === "activationPeak").sort((a, b) => Math.abs(b.error) - Math.abs(a.error)).slice(0, 8);
const peaks = rows.filter((r) => r.metric === "activationPeak");
const within = (bound: number) => peaks.filter((r) => Math.abs(r.error) <= bound).length;
const md = [
  "# GPU memory: predicted vs measured",
  "",
  "`npm run bench:accuracy` compares `memlens analyze --runtime pytorch-cuda --device h200` with the measurements in",
  "`../shared/groundtruth/h200-torch2.11.json` (NVIDIA H200, PyTorch 2.11, cuDNN 9.19): every run of a fixture model",
  "(`onnx-legacy` and `onnx-dynamo` exports) and every fresh-process seed row. Errors are (predicted - measured) / measured.",
  "",
  "| comparison | rows | median abs error | worst |",
  "| --- | ---: | ---: | ---: |",
  ...summary.map((s) => `| ${s.label} | ${s.rows} | ${(100 * s.medianAbs).toFixed(2)}% | ${pct(s.maxAbs).slice(1)} |`),
  "",
  "Largest activation-peak errors:",
  "",
  "| model | export | dtype | batch | predicted MiB | measured MiB | error |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ...worst.map((c) => `| ${c.model} | ${c.export} | ${c.dtype} | ${c.batch} | ${mb(c.predicted)} | ${mb(c.measured)} | ${pct(c.error)} |`),
  "",
  `Activation peaks within 5%: ${within(0.05)} of ${peaks.length}; within 15%: ${within(0.15)}; batches of the misses over 15%: ${[...new Set(peaks.filter((r) => Math.abs(r.error) > 0.15).map((r) => r.batch))].join(", ") || "none"}.`,
  "",
  "What the misses are:",
  "- batch 1: cuDNN's heuristics pick other convolution engines than at larger batches, with workspaces the model",
  "  (src/memory/torch/cudnn.ts) does not know (resnet18, resnet50 and vgg16 fp32); vit_b_16 fp16 at batch 1 is the",
  "  allocator: blocks just over 1 MiB are not split, and which cached block serves them depends on placement history;",
  "- peakReserved's worst rows are densenet121 at batch 32-128 (+20% to +77%): its concatenations grow by 32 channels",
  "  per layer and the simulation places them in fresh segments where the real allocator reuses merged blocks;",
  "- under `cudnn.benchmark` the trial workspaces are a bound (FFT engines), not a measurement per convolution: the",
  "  seed row's total is right (+1%: PyTorch empties the cache after benchmarking) but its peakAllocated is -42%.",
  "",
];
const out = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "bench", "ACCURACY.md");
writeFileSync(out, md.join("\n"));
console.log(`\nwrote ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
