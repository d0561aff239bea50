import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyzeModel } from "../analyze.js";
import { loadModelFile } from "../formats/load-node.js";
import { axis, columns, heldThroughForward, MAX_COLUMNS, peakIndex, waterfallSteps } from "./charts.js";
import { renderHtml } from "./html.js";
import { SCHEMA, type Report } from "../contract/report.js";
import { collectSweep, deviceCapacities, sweep as sweepOf, withCharts } from "../pipeline/sweep.js";
import type { ModelSource } from "../pipeline/source.js";
import type { AnalyzeOptions } from "../analyze.js";
import type { Model } from "../graph/ir.js";

const onnx = (model: Model, opts: AnalyzeOptions): ModelSource => ({ kind: "onnx", model, ...(opts.openExternal ? { openExternal: opts.openExternal } : {}), warnings: [] });
const batchSweep = (model: Model, opts: AnalyzeOptions, ceiling?: number) => collectSweep(sweepOf(onnx(model, opts), opts, "batch", ceiling));
import { DYNAMO_FIXTURES } from "../../bench/shared.js";

const MiB = 1 << 20;

function sample(): Report {
  return {
    schema: SCHEMA,
    model: { file: "evil<script>.onnx", format: "onnx", producer: "test", opsets: { "": 17 }, nodes: 3, parameters: 1000, weightBytes: 4000 },
    settings: { batch: 4, inputs: { x: [4, 3] }, dtype: "fp32", runtime: "pytorch-cuda", device: "h100", mode: "inference", dims: { batch: 4 } },
    layers: [
      { name: "a", op: "Conv", outputs: [{ name: "t_a", shape: [4, 8], dtype: "fp32", bytes: 2 * MiB }], paramBytes: 4000, flops: 10 },
      { name: "<img src=x onerror=alert(1)>", op: "Relu", outputs: [{ name: "t_b", shape: [4, 8], dtype: "fp32", bytes: 3 * MiB }], paramBytes: 0, flops: 1 },
      { name: "c", op: "Add", outputs: [{ name: "t_c", shape: null, dtype: null, bytes: null }], paramBytes: 0, flops: null },
    ],
    memory: {
      weights: 10 * MiB,
      inputs: 1 * MiB,
      outputs: 1 * MiB,
      activationPeak: 5 * MiB,
      workspace: 40 * MiB,
      peakAllocated: 48 * MiB,
      peakReserved: 60 * MiB,
      runtimeOverhead: 600 * MiB,
      total: 660 * MiB,
      peakAt: { layer: "<img src=x onerror=alert(1)>", live: ["t_b", "t_a"] },
      perBatch: { fixed: 640 * MiB, perSample: 5 * MiB },
    },
    timeline: [
      { layer: "a", liveBytes: 2 * MiB },
      { layer: "<img src=x onerror=alert(1)>", liveBytes: 5 * MiB },
      { layer: "c", liveBytes: 5 * MiB },
    ],
    warnings: ["dimension 'seq' not set: using 128 & <b>bold</b>"],
    batchSweep: { points: [{ batch: 1, peakAllocated: 40 * MiB, total: 650 * MiB }, { batch: 2, peakAllocated: 43 * MiB, total: 655 * MiB }, { batch: 4, peakAllocated: 48 * MiB, total: 660 * MiB }], stoppedAt: { batch: 8, reason: "CUDA out of memory" } },
    devices: deviceCapacities(),
  };
}

test("the page is self-contained: no script, no external resource, a CSP that forbids loading any", () => {
  const html = renderHtml(sample());
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<[^>]*\s(src|href)=|@import|url\(/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
});

test("names from the model are escaped everywhere they appear", () => {
  const html = renderHtml(sample());
  assert.doesNotMatch(html, /<img/);
  assert.doesNotMatch(html, /<b>bold/);
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
  assert.match(html, /evil&#60;script&#62;\.onnx/);
});

test("the headline carries the report's exact bytes", () => {
  const html = renderHtml(sample());
  assert.match(html, new RegExp(`data-testid="peak-allocated" data-bytes="${48 * MiB}">48\\.0 MiB<`));
  assert.match(html, new RegExp(`data-testid="total" data-bytes="${660 * MiB}"`));
});

test("the waterfall's steps are the report's rows: they add up to the total, and none is negative", () => {
  const r = sample();
  const steps = waterfallSteps(r);
  assert.deepEqual(steps.map((s) => s.label), ["weights", "activations", "workspace, other", "allocator", "CUDA runtime"]);
  assert.equal(steps.slice(0, 3).reduce((a, s) => a + s.value, 0), r.memory!.peakAllocated);
  assert.equal(steps.reduce((a, s) => a + s.value, 0), r.memory!.total);
  // A runtime whose fields do not split its total: weights, activations and the rest, still reaching it.
  const other: Report = { ...r, settings: { ...r.settings, runtime: "some-runtime", device: "cpu" }, memory: { ...r.memory!, workspace: 0, total: 700 * MiB } };
  const s2 = waterfallSteps(other);
  assert.deepEqual(s2.map((s) => s.label), ["weights", "activations", "rest"]);
  assert.equal(s2.reduce((a, s) => a + s.value, 0), 700 * MiB);
  assert.ok(s2.every((s) => s.value > 0));
});

test("the timeline stacks workspace held through the forward, and marks the report's peak layer", () => {
  const r = sample();
  assert.equal(heldThroughForward(r.memory!), 48 * MiB - 10 * MiB - 1 * MiB - 5 * MiB);
  // Two points tie at the maximum: the one the report names is marked.
  assert.equal(peakIndex(r), 1);
  // The runtime's peak layer wins even where its after-step value is not the largest (ort-cpu's timeline).
  assert.equal(peakIndex({ ...r, memory: { ...r.memory!, peakAt: { layer: "a", live: [] } } }), 0);
  // A name the timeline does not hold: the largest point.
  assert.equal(peakIndex({ ...r, memory: { ...r.memory!, peakAt: { layer: "gone", live: [] } } }), 1);
  const html = renderHtml(r);
  assert.match(html, /data-testid="timeline-peak">peak 48\.0 MiB allocated at &#60;img/);
  assert.match(html, /live at the peak \(2\)/);
});

test("the batch chart draws each swept point, the device lines and where the sweep stopped", () => {
  const html = renderHtml(sample());
  assert.equal((html.match(/class="series-total-dot"/g) ?? []).length, 3);
  assert.match(html, /Sweep stopped at batch 8: CUDA out of memory/);
  assert.match(html, /h100 79\.65 GiB/);
  assert.match(html, /<td>NVIDIA T4<\/td><td class="num">15\.00 GiB<\/td><td class="num">4 or more<\/td>/);
  const cpu = renderHtml({ ...sample(), settings: { ...sample().settings, device: "cpu" } });
  assert.doesNotMatch(cpu, /class="device"/);
});

test("a report without memory still renders its layers and says why there is no chart", () => {
  const r = sample();
  delete r.memory;
  delete r.timeline;
  delete r.batchSweep;
  const html = renderHtml(r);
  assert.match(html, /No memory estimate for runtime pytorch-cuda/);
  assert.match(html, /No timeline/);
  assert.match(html, /No batch sweep in this report/);
});

test("columns: at most MAX_COLUMNS, each showing its largest layer, covering every layer once", () => {
  assert.deepEqual(columns([1, 5, 2]), [{ from: 0, to: 1, top: 0 }, { from: 1, to: 2, top: 1 }, { from: 2, to: 3, top: 2 }]);
  assert.deepEqual(columns([1, 5, 2, 7, 3], 2), [{ from: 0, to: 3, top: 1 }, { from: 3, to: 5, top: 3 }]);
  const many = columns(Array.from({ length: 10_001 }, (_, i) => i % 97));
  assert.ok(many.length <= MAX_COLUMNS);
  assert.equal(many[0]!.from, 0);
  assert.equal(many[many.length - 1]!.to, 10_001);
  for (let i = 1; i < many.length; i++) assert.equal(many[i]!.from, many[i - 1]!.to);
});

test("a 30,000-layer model with 5,000 warnings stays under the 1 MB budget, its peak still marked", () => {
  const r = sample();
  const n = 30_000;
  r.layers = Array.from({ length: n }, (_, i) => ({ name: `/model/layers.${i}/some/long/module/path/MatMul_${i}`, op: "MatMul", outputs: [{ name: `t${i}`, shape: [1, 4096], dtype: "fp16", bytes: 8192 + (i % 13) }], paramBytes: i % 7 === 0 ? 1 << 25 : 0, flops: 1 }));
  r.timeline = r.layers.map((l, i) => ({ layer: l.name, liveBytes: i === 20_123 ? 9 * MiB : 1 * MiB + (i % 100) }));
  r.memory = { ...r.memory!, activationPeak: 9 * MiB, peakAt: { layer: r.layers[20_123]!.name, live: [] } };
  r.warnings = Array.from({ length: 5000 }, (_, i) => `node ${i}: something was bounded`);
  const html = renderHtml(r);
  assert.ok(Buffer.byteLength(html) < 1_000_000, `${Buffer.byteLength(html)} bytes`);
  assert.match(html, /peak 48\.0 MiB allocated at \/model\/layers\.20123\//);
  assert.match(html, /… 4800 more/);
});

test("the timeline axis starts at 0, unless the weights dwarf the activations; then it says where it starts", () => {
  assert.equal(axis(100 * MiB, 300 * MiB).lo, 0);
  const llm = axis(15 * 1024 * MiB, 130 * MiB);
  assert.ok(llm.lo > 0 && llm.lo <= 15 * 1024 * MiB - 2 * 130 * MiB, String(llm.lo));
  assert.equal(llm.ticks[0], llm.lo);
  assert.ok(llm.ticks[llm.ticks.length - 1]! >= 15 * 1024 * MiB);
  const r = sample();
  r.memory = { ...r.memory!, weights: 16 * 1024 * MiB, peakAllocated: 16 * 1024 * MiB + 40 * MiB };
  assert.match(renderHtml(r), /axis starts at [\d.]+ GiB: the bands below it are cut/);
  assert.doesNotMatch(renderHtml(sample()), /axis starts at/);
});

const RESNET18 = join(DYNAMO_FIXTURES, "resnet18.onnx");

test("the batch sweep runs the analysis at each power of two, and the chart is the same Report", () => {
  const { model, openExternal } = loadModelFile(RESNET18);
  const opts = { batch: 8, memory: true, openExternal, device: "t4" };
  const sweep = batchSweep(model, opts, 2 ** 30);
  assert.deepEqual(sweep.points.slice(0, 4).map((p) => p.batch), [1, 2, 4, 8]);
  const at8 = analyzeModel(model, opts).report.memory!;
  assert.deepEqual(sweep.points[3], { batch: 8, peakAllocated: at8.peakAllocated, total: at8.total });
  // Totals grow with the batch, up to segment placement: a fresh process's cuBLAS workspace (32 MiB, first GEMM)
  // lands in a cached block at one batch and needs a segment of its own at another (resnet18 on a t4: batch 1
  // reserves 4 MiB more than batch 2). peakAllocated has no segments in it and grows strictly.
  for (let i = 1; i < sweep.points.length; i++) {
    assert.ok(sweep.points[i]!.total >= sweep.points[i - 1]!.total - (20 << 20), `batch ${sweep.points[i]!.batch}`);
    assert.ok(sweep.points[i]!.peakAllocated > sweep.points[i - 1]!.peakAllocated, `batch ${sweep.points[i]!.batch}`);
  }
  // Past the ceiling (here 1 GiB) the sweep stops after one point above it, and says so.
  const last = sweep.points[sweep.points.length - 1]!;
  assert.ok(last.total > 2 ** 30 && sweep.points[sweep.points.length - 2]!.total <= 2 ** 30);
  assert.equal(sweep.stoppedAt?.batch, last.batch * 2);
  assert.match(sweep.stoppedAt?.reason ?? "", /more than 1\.00 GiB/);
  const html = renderHtml(withCharts(analyzeModel(model, opts).report, onnx(model, opts), opts));
  assert.ok(Buffer.byteLength(html) < 1_000_000);
});

test("a model with fixed input shapes: the sweep stops after batch 2 and says why", () => {
  const { model, openExternal } = loadModelFile(RESNET18);
  const sweep = batchSweep(model, { memory: true, openExternal, inputs: { [model.graph.inputs[0]!.name]: [2, 3, 64, 64] } });
  assert.equal(sweep.points.length, 2);
  assert.match(sweep.stoppedAt?.reason ?? "", /no batch dimension/);
});
