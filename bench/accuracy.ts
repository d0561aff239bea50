/**
 * `npm run bench:accuracy`: every fixture with a GPU measurement, predicted vs measured side by side with
 * relative errors, then the medians; writes the summary to bench/ACCURACY.md.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { available, compareAll, GROUND_TRUTH, summarise, type Comparison } from "./accuracy-lib.js";

if (!available()) {
  console.error(`ground truth not found: ${GROUND_TRUTH}`);
  process.exit(1);
}
const t0 = performance.now();
const rows = await compareAll();
// `--json FILE`: every row as JSON too, for bench/accuracy-lomo.ts (leave-one-model-out checks of a rule).
const jsonAt = process.argv.indexOf("--json");
if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(rows));
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
const peaks = rows.filter((r) => r.metric === "activationPeak" && r.group === "torchvision");
const within = (bound: number) => peaks.filter((r) => Math.abs(r.error) <= bound).length;
const md = [
  "# GPU memory: predicted vs measured",
  "",
  "`npm run bench:accuracy` compares `memlens analyze --runtime pytorch-cuda --device h200` with the measurements in",
  "`bench/groundtruth/h200-torch2.11.json` (NVIDIA H200, PyTorch 2.11, cuDNN 9.19): every run of a fixture model",
  "(`onnx-legacy` and `onnx-dynamo` exports) and every fresh-process seed row. Errors are (predicted - measured) / measured.",
  "",
  "| comparison | rows | median abs error | worst |",
  "| --- | ---: | ---: | ---: |",
  ...summary.map((s) => `| ${s.label} | ${s.rows} | ${(100 * s.medianAbs).toFixed(2)}% | ${pct(s.maxAbs).slice(1)} |`),
  "",
  "Largest activation-peak errors (fixtures and held out):",
  "",
  "| model | group | export | dtype | batch | predicted MiB | measured MiB | error |",
  "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
  ...worst.map((c) => `| ${c.model} | ${c.group} | ${c.export} | ${c.dtype} | ${c.batch} | ${mb(c.predicted)} | ${mb(c.measured)} | ${pct(c.error)} |`),
  "",
  `Fixture (torchvision) activation peaks within 5%: ${within(0.05)} of ${peaks.length}; within 15%: ${within(0.15)}; batches of the misses over 15%: ${[...new Set(peaks.filter((r) => Math.abs(r.error) > 0.15).map((r) => r.batch))].join(", ") || "none"}.`,
  "",
  "Held out: `bench/gpu/run.sh` measured on the same H200 / PyTorch 2.11 / cuDNN 9.19 with the same protocol",
  "(bench/groundtruth/gpu-h200-torch2.11-*; it reproduced 55 of the shared file's 56 fixture peaks to the byte, the",
  "other +1 MiB) 8 torchvision models memlens had never seen (graphs in bench/fixtures/heldout) and 8 seed rows.",
  "Compared before any rule looked at them, the held-out activation peaks had a median error of 2.6% (worst 50.6%)",
  "and reserved peaks 4.2% (worst 56.7%). Their per-convolution workspaces then replaced the cuDNN rule and showed",
  "max pooling's int64 indices (src/memory/torch/cudnn.ts, eager.ts), so the rows above are no longer held out.",
  "A second run (bench/gpu/run-heldout2.sh) measured after that rule was committed is held out: 6 more models",
  "(resnext50_32x4d, wide_resnet50_2, mnasnet1_0, efficientnet_v2_s, resnet34, vgg11) at batches 2/4/16/64, which no",
  "rule was read at, and resnet50 / mobilenet_v2 at 320x320 (the \"second held-out run\" rows above; legacy exports).",
  "",
  "What the misses are (details and per-call evidence in src/memory/torch/cudnn.ts):",
  "- 1x1 convolutions with few output pixels run split-K GEMMs whose partial sums are 8-32x the output: squeezenet's",
  "  batch-1 classifier (-42%), resnet50's 1x1s (-5% to -10%); the split count is cuDNN's heuristics' choice;",
  "- inception_v3 fp32 batch 1 (-17%): 32-channel convs at M = 21,609 rows keep input + output, below the thin",
  "  threshold;",
  "- reserved peaks where a transient block lands in another cached block than simulated: squeezenet at batch 1-8",
  "  (its split-K workspace), convnext_tiny at batch 32-128 (-13% to -21%: its trace has no copy before the blocks'",
  "  LayerNorm where memlens simulates one; likely the depthwise convs return channels-last outputs, not confirmed),",
  "  resnet50 batch 8 (-13%), efficientnet_b0 fp16 batch 8 (-16%);",
  "- `cudnn.benchmark`: the trial workspaces (the largest engine PyTorch times, src/memory/torch/cudnn-benchmark.ts)",
  "  are exact for fp32 FFT-capable convolutions; other configurations are a lower bound, with a warning.",
  "",
  "Fresh processes (the seed rows) allocate the cuBLAS workspace at the model's first GEMM; the harness rows ran cuBLAS",
  "before loading any model, and are predicted with `cublasFirst` (an analyze option) to match.",
  "The H100 (bench/gpu/run-h100.sh) measured the same 56 fixture peaks as the H200 to the byte, and the same context.",
  "",
  "`bench/gpu/run.sh` (one device call, about 6 minutes) re-measures all of it; `node dist/bench/accuracy-lomo.js",
  "BASE.json CANDIDATE.json...` checks a rule leave-one-model-out on rows written by `npm run bench:accuracy -- --json F`.",
  "",
];
const out = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "bench", "ACCURACY.md");
writeFileSync(out, md.join("\n"));
console.log(`\nwrote ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
