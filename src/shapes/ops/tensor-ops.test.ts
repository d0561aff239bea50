import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString, type Dim } from "../../sym/expr.js";
import { constTensor, infer, inferOp } from "../testing.js";

const i64 = (name: string, values: number[], shape = [values.length]) => constTensor(name, "int64", shape, values);
const str = (v: readonly Dim[] | undefined) => (v ? `[${v.map(dimToString).join(",")}]` : undefined);

test("Gather: indices' shape replaces the axis; a scalar index removes it; values fold", () => {
  const table = { dtype: "float32" as const, shape: [50257, 768] };
  const ids = { dtype: "int64" as const, shape: ["batch", "seq"] };
  assert.deepEqual(inferOp("Gather", [table, ids]).shapes, ["[batch,seq,768]"]);
  assert.deepEqual(inferOp("Gather", [{ dtype: "float32", shape: ["batch", "seq", 768] }, i64("i", [-1], [])], { axis: 1 }).shapes, ["[batch,768]"]);
  const m = i64("m", [1, 2, 3, 4, 5, 6], [2, 3]);
  const g = inferOp("Gather", [m, i64("i", [2, -3])], { axis: 1 });
  assert.deepEqual(g.shapes, ["[2,2]"]);
  assert.equal(str(g.out[0]?.value), "[3,1,6,4]");
  const oob = inferOp("Gather", [m, i64("i", [3])], { axis: 1 });
  assert.match(oob.warnings.join("\n"), /index 3 out of range/);
});

test("GatherElements takes the indices' shape; GatherND honours batch_dims", () => {
  assert.deepEqual(inferOp("GatherElements", [{ dtype: "float32", shape: [3, 4] }, { dtype: "int64", shape: [3, 2] }], { axis: 1 }).shapes, ["[3,2]"]);
  const data = { dtype: "float32" as const, shape: ["batch", 5, 6, 7] };
  assert.deepEqual(inferOp("GatherND", [data, { dtype: "int64", shape: [4, 2] }]).shapes, ["[4,6,7]"]);
  assert.deepEqual(inferOp("GatherND", [data, { dtype: "int64", shape: ["batch", 3, 2] }], { batch_dims: 1 }).shapes, ["[batch,3,7]"]);
});

test("Pad: attribute before opset 11, input after, axes from opset 18, negative pads crop", () => {
  const x = { dtype: "float32" as const, shape: ["batch", 3, 10, 10] };
  assert.deepEqual(inferOp("Pad", [x], { pads: [0, 0, 1, 2, 0, 0, 3, 4] }, { opset: 2 }).shapes, ["[batch,3,14,16]"]);
  assert.deepEqual(inferOp("Pad", [x, i64("p", [0, 0, 1, -1, 0, 0, 1, -1])], {}, { opset: 13 }).shapes, ["[batch,3,12,8]"]);
  assert.deepEqual(inferOp("Pad", [x, i64("p", [2, 2]), null, i64("a", [-1])], {}, { opset: 18 }).shapes, ["[batch,3,10,14]"]);
});

test("OneHot inserts depth at the axis; TopK returns values and int64 indices with k", () => {
  const idx = { dtype: "int64" as const, shape: ["batch", 4] };
  const oh = inferOp("OneHot", [idx, i64("d", [10], []), constTensor("v", "float32", [2], [0, 1])], { axis: 1 });
  assert.deepEqual(oh.shapes, ["[batch,10,4]"]);
  assert.equal(oh.out[0]?.dtype, "float32");
  const topk = inferOp("TopK", [{ dtype: "float32", shape: ["batch", 1000] }, i64("k", [5])], {}, { outputs: 2 });
  assert.deepEqual(topk.shapes, ["[batch,5]", "[batch,5]"]);
  assert.equal(topk.out[1]?.dtype, "int64");
  assert.deepEqual(inferOp("TopK", [{ dtype: "float32", shape: [3, 4] }], { k: 2, axis: 0 }, { outputs: 2, opset: 1 }).shapes, ["[2,4]", "[2,4]"]);
});

test("NonZero, Unique, Compress and NonMaxSuppression: fresh symbols with upper bounds and a warning", () => {
  const r = infer({
    inputs: {
      m: { dtype: "bool", shape: ["batch", 8] },
      x: { dtype: "float32", shape: [2, 6] },
      cond: { dtype: "bool", shape: [6] },
      boxes: { dtype: "float32", shape: [1, 100, 4] },
      scores: { dtype: "float32", shape: [1, 80, 100] },
    },
    initializers: [i64("maxPerClass", [10], [])],
    nodes: [
      { op: "NonZero", inputs: ["m"], outputs: ["nz"] },
      { op: "Unique", inputs: ["x"], outputs: ["y", "idx", "inv", "counts"] },
      { op: "Compress", inputs: ["x", "cond"], outputs: ["c"], attrs: { axis: 1 } },
      { op: "NonMaxSuppression", inputs: ["boxes", "scores", "maxPerClass"], outputs: ["sel"] },
    ],
    outputs: ["nz", "y", "idx", "inv", "counts", "c", "sel"],
  });
  const shape = (n: string) => str(r.values.get(n)?.shape);
  assert.equal(shape("nz"), "[2,nonzero_1]");
  assert.equal(dimToString(r.bounds.get("nonzero_1")!), "8*batch");
  assert.equal(shape("y"), "[unique_1]");
  assert.equal(shape("idx"), "[unique_1]");
  assert.equal(shape("inv"), "[12]");
  assert.equal(shape("counts"), "[unique_1]");
  assert.equal(r.bounds.get("unique_1"), 12);
  assert.equal(shape("c"), "[2,compress_1]");
  assert.equal(r.bounds.get("compress_1"), 6);
  assert.equal(shape("sel"), "[nms_1,3]");
  assert.equal(r.bounds.get("nms_1"), 800);
  assert.equal(r.warnings.filter((w) => /depends? on the/.test(w)).length, 4);
});

test("data-dependent ops are exact when their inputs' values are known", () => {
  assert.deepEqual(inferOp("NonZero", [i64("v", [0, 3, 0, 1], [2, 2])]).shapes, ["[2,2]"]);
  assert.deepEqual(inferOp("Unique", [i64("v", [2, 1, 1, 3, 4, 3])], {}, { outputs: 4 }).shapes, ["[4]", "[4]", "[6]", "[4]"]);
  assert.deepEqual(inferOp("Compress", [{ dtype: "float32", shape: [3, 2] }, i64("c", [0, 1, 1])], { axis: 0 }).shapes, ["[2,2]"]);
  // No max_output_boxes_per_class: the op selects nothing.
  const none = inferOp("NonMaxSuppression", [{ dtype: "float32", shape: [1, 6, 4] }, { dtype: "float32", shape: [1, 1, 6] }]);
  assert.deepEqual(none.shapes, ["[0,3]"]);
});

test("CumSum keeps the shape and folds small integer values; same-shape ops keep shape and dtype", () => {
  const c = inferOp("CumSum", [i64("v", [1, 1, 0, 1]), i64("a", [0], [])]);
  assert.equal(str(c.out[0]?.value), "[1,2,2,3]");
  const rev = inferOp("CumSum", [i64("v", [1, 2, 3, 4], [2, 2]), i64("a", [1], [])], { reverse: 1, exclusive: 1 });
  assert.equal(str(rev.out[0]?.value), "[2,0,4,0]");
  for (const op of ["Trilu", "ScatterND", "ScatterElements", "ReverseSequence"]) {
    const r = inferOp(op, [{ dtype: "float16", shape: ["batch", 4, 4] }, { dtype: "int64", shape: [1] }, { dtype: "float16", shape: [1] }]);
    assert.deepEqual(r.shapes, ["[batch,4,4]"], op);
    assert.equal(r.out[0]?.dtype, "float16", op);
  }
});

test("CenterCropPad sets the chosen axes to the target", () => {
  const x = { dtype: "float32" as const, shape: [20, 10, 3] };
  assert.deepEqual(inferOp("CenterCropPad", [x, i64("s", [12, 14])], { axes: [0, 1] }).shapes, ["[12,14,3]"]);
  assert.deepEqual(inferOp("CenterCropPad", [x, i64("s", [5, 5, 3])]).shapes, ["[5,5,3]"]);
});

test("FLOPs: indexing and padding count 0, CumSum one add per element, comparisons (TopK) stay unknown", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["batch", 16] }, ids: { dtype: "int64", shape: ["batch", 4] } },
    initializers: [i64("k", [3]), i64("ax", [1], []), i64("p", [0, 1, 0, 1])],
    nodes: [
      { op: "GatherElements", inputs: ["x", "ids"], outputs: ["g"], attrs: { axis: 1 } },
      { op: "Pad", inputs: ["x", "p"], outputs: ["pd"] },
      { op: "CumSum", inputs: ["x", "ax"], outputs: ["c"] },
      { op: "TopK", inputs: ["x", "k"], outputs: ["tv", "ti"] },
    ],
    outputs: ["g", "pd", "c", "tv", "ti"],
  });
  const f = r.nodes.map((n) => (n.flops === undefined ? "?" : dimToString(n.flops)));
  assert.deepEqual(f, ["0", "0", "16*batch", "?"]);
});

test("TopK with a run-time k: a fresh symbol bounded by the axis", () => {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq"] }, k: { dtype: "int64", shape: [1] } },
    nodes: [{ op: "TopK", inputs: ["x", "k"], outputs: ["v", "i"] }],
    outputs: ["v", "i"],
  });
  assert.equal(str(r.values.get("i")?.shape), "[batch,topk_1]");
  assert.equal(dimToString(r.bounds.get("topk_1")!), "seq");
});
