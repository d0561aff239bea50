/**
 * The NCHWc transformer's Resize rule, and ORT's constant folding of Shape on a static shape (which turns a
 * Resize's computed sizes into a constant): a static-shape Conv -> Resize(sizes from Shape) runs as
 * nchwc.Upsample on the blocked tensor; with a symbolic input the sizes stay computed and the Resize reads NCHW.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeModel } from "../../analyze.js";
import { buildModel, constTensor } from "../../shapes/testing.js";
import { buildOrtGraph } from "./graph.js";

function model(h: number | string) {
  return buildModel({
    inputs: { x: { dtype: "float32", shape: [1, 16, h, h] } },
    initializers: [
      constTensor("w", "float32", [16, 16, 3, 3], new Array(16 * 16 * 9).fill(0)),
      constTensor("two", "int64", [2], [2, 2]),
      constTensor("starts", "int64", [1], [0]),
      constTensor("ends", "int64", [1], [2]),
      constTensor("spatial", "int64", [1], [2]),
      constTensor("end4", "int64", [1], [4]),
    ],
    nodes: [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { op: "Shape", inputs: ["c"], outputs: ["s"] },
      { op: "Slice", inputs: ["s", "starts", "ends"], outputs: ["nc"] },
      { op: "Slice", inputs: ["s", "spatial", "end4"], outputs: ["hw"] },
      { op: "Mul", inputs: ["hw", "two"], outputs: ["hw2"] },
      { op: "Concat", inputs: ["nc", "hw2"], outputs: ["sizes"], attrs: { axis: 0 } },
      { op: "Resize", inputs: ["c", "", "", "sizes"], outputs: ["y"], attrs: { mode: "linear", coordinate_transformation_mode: "half_pixel" } },
      { op: "Relu", inputs: ["y"], outputs: ["z"] },
    ],
    outputs: ["z"],
    opset: 13,
  });
}

test("static shape: Shape folds, the Resize becomes nchwc.Upsample on the blocked Conv output", () => {
  const m = model(32);
  const a = analyzeModel(m, {});
  const ops = buildOrtGraph(m, a.inference, a.bindings, { nchwcBlock: 16 }).nodes.map((n) => n.op);
  assert.ok(ops.includes("nchwc.Upsample") && !ops.includes("Shape") && !ops.includes("Resize"), ops.join(" "));
});

test("symbolic image size: the sizes are computed at run time and the Resize reads NCHW", () => {
  const m = model("H");
  const a = analyzeModel(m, { dims: { H: 32 } });
  const ops = buildOrtGraph(m, a.inference, a.bindings, { nchwcBlock: 16 }).nodes.map((n) => n.op);
  assert.ok(ops.includes("Shape") && ops.includes("Resize") && !ops.includes("nchwc.Upsample"), ops.join(" "));
});
