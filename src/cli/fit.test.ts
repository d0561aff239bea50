import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeModel } from "../analyze.js";
import { findDevice } from "../memory/devices.js";
import { buildModel, constTensor, dims } from "../shapes/testing.js";
import type { AnalyzeOptions } from "../analyze.js";
import type { Model } from "../graph/ir.js";
import { fit } from "../pipeline/fit.js";

const fitModel = (model: Model, opts: AnalyzeOptions, axis: "batch" | "seq") => fit({ kind: "onnx", model, warnings: [] }, opts, axis);

function convNet() {
  return buildModel({
    inputs: { input: { dtype: "float32", shape: ["batch", 64, 256, 256] } },
    initializers: [constTensor("conv.weight", "float32", [64, 64, 3, 3], new Array(64 * 64 * 9).fill(0))],
    nodes: [
      { name: "/conv/Conv", op: "Conv", inputs: ["input", "conv.weight"], outputs: ["c"], attrs: { pads: [1, 1, 1, 1] } },
      { name: "/relu/Relu", op: "Relu", inputs: ["c"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
}

test("fit: the largest batch whose total fits, and one more does not", () => {
  const model = convNet();
  const r = fitModel(model, { device: "t4" }, "batch");
  const capacity = findDevice("t4")!.capacity.value!;
  assert.equal(r.capacity, capacity);
  assert.ok(r.max > 1 && !r.bounded);
  assert.ok(r.total <= capacity);
  const next = analyzeModel(model, { device: "t4", batch: r.max + 1, memory: true }).report.memory!;
  assert.ok(next.total > capacity, `batch ${r.max + 1} needs ${next.total} > ${capacity}`);
  assert.ok(next.total > r.total);
});

test("fit: a bigger card fits a bigger batch; a model too big for the card fits 0", () => {
  const model = convNet();
  const t4 = fitModel(model, { device: "t4" }, "batch").max;
  const h200 = fitModel(model, { device: "h200" }, "batch").max;
  assert.ok(h200 > 5 * t4);
  const huge = fitModel(model, { device: "t4", inputs: { input: dims(["batch", 64, 8192, 8192]) } }, "batch");
  assert.equal(huge.max, 0);
  assert.throws(() => fitModel(model, { device: "cpu" }, "batch"), /no fixed memory capacity/);
});
