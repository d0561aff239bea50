/**
 * Every report's rows add up to its total, for every runtime and mode: the terminal table and the page's
 * waterfall draw these rows, so a part the total holds can never go unnamed (train's optimizer state, ort-cpu's
 * load-time copies) and no bar is negative.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { memoryRows } from "../src/report/rows.js";
import { renderExplanation } from "../src/report/explain.js";
import { timelineChart, waterfallSteps } from "../src/report/charts.js";
import { RUNTIME_IDS, devicesFor, runtimeSpec } from "../src/memory/runtime-table.js";
import { describeHub } from "../src/llm/describe.js";
import { llmReport } from "../src/llm/estimate.js";
import { llmTrainReport } from "../src/llm/train.js";
import type { Report } from "../src/contract/report.js";
import { DYNAMO_FIXTURES, LEGACY_FIXTURES } from "../bench/shared.js";
import { spawnSync } from "node:child_process";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FASHION = join(ROOT, "models/fashion-mobilenetv2/model.onnx");

function assertAddsUp(report: Report, what: string): void {
  const m = report.memory!;
  const rows = memoryRows(report);
  assert.ok(rows.length >= 2, `${what}: ${rows.length} rows`);
  for (const r of rows) assert.ok(r.bytes > 0, `${what}: row ${r.label} is ${r.bytes}`);
  assert.equal(rows.reduce((a, r) => a + r.bytes, 0), m.total, `${what}: ${rows.map((r) => `${r.label} ${r.bytes}`).join(", ")} vs ${m.total}`);
  // The renderers draw the same rows: the waterfall's steps, and the table's lines, one per row.
  assert.deepEqual(waterfallSteps(report).map((s) => s.value), rows.map((r) => r.bytes), what);
  const table = renderExplanation(report);
  for (const r of rows) assert.match(table, new RegExp(`^  ${r.label.replace(/[,()]/g, "\\$&")} +`, "m"), `${what}: ${r.label}`);
}

test("ONNX models: every runtime, every mode it runs, each dtype", () => {
  const models = [FASHION, join(LEGACY_FIXTURES, "resnet18.onnx"), join(DYNAMO_FIXTURES, "gpt2.onnx")];
  for (const file of models) {
    const { model, openExternal } = loadModelFile(file);
    for (const id of RUNTIME_IDS.filter((r) => runtimeSpec(r).sources.includes("onnx"))) {
      const spec = runtimeSpec(id);
      for (const mode of spec.modes) for (const dtype of spec.dtypes) for (const batch of [1, 4]) {
        const { report } = analyzeModel(model, { runtime: id, mode, dtype, batch, device: devicesFor(spec)[0]!, openExternal, memory: true });
        assertAddsUp(report, `${file} ${id} ${mode} ${dtype} b${batch}`);
      }
    }
  }
});

test("train shows its optimizer state, and sharded training its per-GPU model states", () => {
  const { model, openExternal } = loadModelFile(FASHION);
  const train = analyzeModel(model, { mode: "train", openExternal, memory: true }).report;
  const opt = memoryRows(train).find((r) => r.label === "optimizer state");
  assert.equal(opt?.bytes, (train.memory!["training"] as { optimizerState: number }).optimizerState);
  assertAddsUp(train, "train");
  for (const t of [{ gpus: 4, zero: "3" }, { gpus: 8, fsdp: "full" }, { gpus: 2 }]) {
    const r = analyzeModel(model, { mode: "train", batch: 4, train: t, openExternal, memory: true }).report;
    assertAddsUp(r, `train ${JSON.stringify(t)}`);
  }
});

test("ort-cpu names its load-time copies: nothing between the parts and the total", () => {
  const { model, openExternal } = loadModelFile(FASHION);
  const r = analyzeModel(model, { runtime: "ort-cpu", openExternal, memory: true }).report;
  assert.deepEqual(memoryRows(r).map((x) => x.label), ["weights", "blocked copies", "parsed model", "inputs", "runs", "runtime"]);
  assertAddsUp(r, "ort-cpu");
});

test("LLMs from config.json: inference, generate and train", () => {
  const gt = JSON.parse(readFileSync(join(ROOT, "bench/groundtruth/h200-torch2.11.json"), "utf8")) as { hf_configs: Record<string, Record<string, unknown>> };
  for (const name of ["gpt2", "bert-base"]) {
    const src = describeHub(gt.hf_configs[name]!, `${name}/config.json`, undefined);
    const base = { batch: 2, seq: 128, dtype: "fp16", device: "h100", attn: "sdpa" } as const;
    assertAddsUp(llmReport(src, { ...base, mode: "inference", newTokens: 0 }), `${name} inference`);
    if (name === "gpt2") assertAddsUp(llmReport(src, { ...base, mode: "generate", newTokens: 16, minNewTokens: 16 }), `${name} generate`);
    assertAddsUp(llmTrainReport(src, { ...base, train: {} }), `${name} train`);
  }
});

test("the timeline's peak dot sits on its column's bar and says the value drawn there", () => {
  const { model, openExternal } = loadModelFile(FASHION);
  for (const runtime of ["pytorch-cuda", "ort-cpu"]) {
    const r = analyzeModel(model, { runtime, batch: 8, openExternal, memory: true }).report;
    const svg = timelineChart(r);
    const dot = /<circle cx="([\d.]+)" cy="([\d.]+)" r="5" class="peak-dot"\/>/.exec(svg);
    assert.ok(dot, runtime);
    // The stepped area's vertices: the dot's height is one of them (the top of the column it sits on).
    const path = /<path d="([^"]+)" fill/.exec(svg)![1]!;
    const heights = [...path.matchAll(/V([\d.]+)/g)].map((x) => x[1]);
    assert.ok(heights.includes(dot[2]), `${runtime}: dot at y=${dot[2]} is on no bar (${heights.slice(0, 5).join(",")}...)`);
  }
});

test("one count and one unit: the weights row names the module's parameters and the file's, quantize prints MiB", () => {
  const sidecar = JSON.parse(readFileSync(join(ROOT, "models/fashion-mobilenetv2/model.json"), "utf8")) as { architecture: string };
  const torchvision = /([\d,]+) parameters/.exec(sidecar.architecture)![1]!;
  const { model, openExternal } = loadModelFile(FASHION);
  for (const mode of ["inference", "train"]) {
    const r = analyzeModel(model, { mode, openExternal, memory: true }).report;
    const why = memoryRows(r).find((x) => x.label === "weights")!.why;
    assert.match(why, new RegExp(`^${torchvision} parameters as fp32 and BatchNorm statistics \\(the file has 2,219,696: its exporter folded 52 BatchNorms into the convolutions\\)`), `${mode}: ${why}`);
  }
  const dir = tempDir("rows");
  const q = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), "quantize", FASHION, "-o", join(dir, "q.onnx"), "--mode", "dynamic"], { encoding: "utf8" });
  assert.equal(q.status, 0, q.stderr);
  assert.match(q.stdout, /file {8}8\.5 MiB -> [\d.]+ MiB/);
  assert.doesNotMatch(q.stdout, /\bMB\b/);
});
