import { test } from "node:test";
import assert from "node:assert/strict";
import { inferOp } from "../testing.js";

const x = { dtype: "float32" as const, shape: ["N", 64, 56, 56] };
const c64 = { dtype: "float32" as const, shape: [64] };

test("BatchNormalization inference: Y only, X's shape", () => {
  const r = inferOp("BatchNormalization", [x, c64, c64, c64, c64]);
  assert.deepEqual(r.shapes, ["[N,64,56,56]"]);
});

test("BatchNormalization opset 9: four [C] statistics outputs", () => {
  const r = inferOp("BatchNormalization", [x, c64, c64, c64, c64], {}, { outputs: 5, opset: 9 });
  assert.deepEqual(r.shapes, ["[N,64,56,56]", "[64]", "[64]", "[64]", "[64]"]);
});

test("BatchNormalization opset 15 training: running mean/var in the statistics dtype", () => {
  const half = { dtype: "float16" as const, shape: [2, 3, 4] };
  const stats = { dtype: "float32" as const, shape: [3] };
  const scale = { dtype: "float16" as const, shape: [3] };
  const r = inferOp("BatchNormalization", [half, scale, scale, stats, stats], { training_mode: 1 }, { outputs: 3, opset: 15 });
  assert.deepEqual(r.shapes, ["[2,3,4]", "[3]", "[3]"]);
  assert.equal(r.out[0]?.dtype, "float16");
  assert.equal(r.out[1]?.dtype, "float32");
});

test("LayerNormalization: Mean and InvStdDev keep dims before axis, 1 after, in stash_type", () => {
  const xs = { dtype: "float16" as const, shape: ["B", "S", 768] };
  const w = { dtype: "float16" as const, shape: [768] };
  const r = inferOp("LayerNormalization", [xs, w, w], { axis: -1 }, { outputs: 3 });
  assert.deepEqual(r.shapes, ["[B,S,768]", "[B,S,1]", "[B,S,1]"]);
  assert.equal(r.out[0]?.dtype, "float16");
  assert.equal(r.out[1]?.dtype, "float32");
  const r1 = inferOp("LayerNormalization", [xs, { dtype: "float16", shape: ["S", 768] }], { axis: 1, stash_type: 10 }, { outputs: 2 });
  assert.deepEqual(r1.shapes, ["[B,S,768]", "[B,1,1]"]);
  assert.equal(r1.out[1]?.dtype, "float16");
});

test("GroupNormalization: num_groups must divide the channels", () => {
  const s = { dtype: "float32" as const, shape: [4] };
  assert.deepEqual(inferOp("GroupNormalization", [{ dtype: "float32", shape: [2, 64, 8, 8] }, s, s], { num_groups: 4 }).shapes, ["[2,64,8,8]"]);
  const bad = inferOp("GroupNormalization", [{ dtype: "float32", shape: [2, 6, 8] }, s, s], { num_groups: 4 });
  assert.equal(bad.out[0]?.shape, undefined);
  assert.match(bad.warnings.join("\n"), /does not divide 6/);
});

test("InstanceNormalization, LpNormalization, MeanVarianceNormalization, LRN keep the shape", () => {
  assert.deepEqual(inferOp("InstanceNormalization", [x, c64, c64]).shapes, ["[N,64,56,56]"]);
  assert.deepEqual(inferOp("LpNormalization", [x], { axis: 1, p: 2 }).shapes, ["[N,64,56,56]"]);
  assert.deepEqual(inferOp("MeanVarianceNormalization", [x]).shapes, ["[N,64,56,56]"]);
  assert.deepEqual(inferOp("LRN", [x], { size: 5 }).shapes, ["[N,64,56,56]"]);
  assert.equal(inferOp("LpNormalization", [x], { axis: 4 }).out[0]?.shape, undefined);
});

test("Dropout: the mask has X's dtype before opset 10 and is bool from 10", () => {
  const old = inferOp("Dropout", [x], { ratio: { f: 0.5 } }, { outputs: 2, opset: 7 });
  assert.deepEqual(old.shapes, ["[N,64,56,56]", "[N,64,56,56]"]);
  assert.equal(old.out[1]?.dtype, "float32");
  const now = inferOp("Dropout", [x, { dtype: "float32", shape: [] }, { dtype: "bool", shape: [] }], {}, { outputs: 2 });
  assert.deepEqual(now.shapes, ["[N,64,56,56]", "[N,64,56,56]"]);
  assert.equal(now.out[1]?.dtype, "bool");
});

test("BatchNormalization opset 6 with spatial=0: statistics have the per-activation shape", () => {
  const cs = { dtype: "float32" as const, shape: [3, 4, 5] };
  const r = inferOp("BatchNormalization", [{ dtype: "float32", shape: [2, 3, 4, 5] }, cs, cs, cs, cs], { spatial: 0, is_test: 0 }, { outputs: 3, opset: 6 });
  assert.deepEqual(r.shapes, ["[2,3,4,5]", "[3,4,5]", "[3,4,5]"]);
});
