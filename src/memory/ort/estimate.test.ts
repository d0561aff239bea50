/**
 * The ORT CPU estimate's load/run split on the shared fixtures: weights a kernel first reads during run 1
 * (memory-mapped external data) count in run 1, not at load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyzeModel } from "../../analyze.js";
import { loadModelFile } from "../../formats/load-node.js";
import { buildOrtGraph } from "./graph.js";
import { estimateOrtCpu, firstReadMappedBytes, outputCopyBytes } from "./estimate.js";
import { LEGACY_FIXTURES } from "../../../bench/shared.js";

const MiB = 2 ** 20;

function mappedAtRun1(name: string): number {
  const { model, openExternal, source } = loadModelFile(join(LEGACY_FIXTURES, `${name}.onnx`));
  try {
    const a = analyzeModel(model, { batch: 1, openExternal });
    return firstReadMappedBytes(model, buildOrtGraph(model, a.inference, a.bindings, { nchwcBlock: 8 }));
  } finally {
    source.close();
  }
}

test("vit_b_16 pages in its position embedding and LayerNorm/bias vectors on run 1; resnet50 almost nothing (measured 0.8 / 0.02 MiB)", () => {
  const vit = mappedAtRun1("vit_b_16");
  assert.ok(vit > 0.7 * MiB && vit < 0.95 * MiB, `vit_b_16 ${(vit / MiB).toFixed(2)} MiB`);
  const resnet = mappedAtRun1("resnet50");
  assert.ok(resnet < 0.1 * MiB, `resnet50 ${(resnet / MiB).toFixed(2)} MiB`);
});

test("outputs are copied into the caller's buffers: once after run 1, twice after run 2 (page-rounded)", () => {
  const { model, openExternal, source } = loadModelFile(join(LEGACY_FIXTURES, "resnet18.onnx"));
  try {
    const a = analyzeModel(model, { batch: 64, openExternal });
    const g = buildOrtGraph(model, a.inference, a.bindings, { nchwcBlock: 8 });
    // [64, 1000] float = 256,000 B = 62.5 pages -> 63 pages.
    assert.equal(outputCopyBytes(g), 63 * 4096);
    const e = estimateOrtCpu({ model, inference: a.inference, bindings: a.bindings, settings: { batch: 64, dtype: "fp32", runtime: "ort-cpu", device: "cpu", mode: "inference", cpu: "avx2" } });
    const more = e.afterRun2 - e.runs.run2Touched - (e.afterRun1 - e.runs.run1Touched);
    assert.equal(more, 63 * 4096);
  } finally {
    source.close();
  }
});
