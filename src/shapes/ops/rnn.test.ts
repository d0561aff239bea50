import { test } from "node:test";
import assert from "node:assert/strict";
import { inferOp } from "../testing.js";

const f32 = (shape: (number | string)[]) => ({ dtype: "float32" as const, shape });

test("LSTM layout 0, bidirectional: Y [seq, 2, batch, hidden], Y_h and Y_c [2, batch, hidden]", () => {
  const r = inferOp("LSTM", [f32(["seq", "batch", 10]), f32([2, 80, 10]), f32([2, 80, 20])], { hidden_size: 20, direction: "bidirectional" }, { outputs: 3 });
  assert.deepEqual(r.shapes, ["[seq,2,batch,20]", "[2,batch,20]", "[2,batch,20]"]);
});

test("GRU layout 1 (opset 14+): batch first", () => {
  const r = inferOp("GRU", [f32([3, 5, 4]), f32([1, 18, 4]), f32([1, 18, 6])], { hidden_size: 6, layout: 1 }, { outputs: 2, opset: 14 });
  assert.deepEqual(r.shapes, ["[3,5,1,6]", "[3,1,6]"]);
});

test("RNN without hidden_size takes it from R", () => {
  const r = inferOp("RNN", [f32([7, 2, 3]), f32([1, 5, 3]), f32([1, 5, 5])], {}, { outputs: 2 });
  assert.deepEqual(r.shapes, ["[7,1,2,5]", "[1,2,5]"]);
});

test("W whose gate dim does not match hidden_size is an error", () => {
  const r = inferOp("LSTM", [f32([7, 2, 3]), f32([1, 12, 3]), f32([1, 12, 3])], { hidden_size: 4 }, { outputs: 1 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /expected 4\*hidden_size/);
});

test("LSTM FLOPs: seq*batch*dirs*(2*4*hidden*(input+hidden) + 4*3*hidden)", async () => {
  const { infer } = await import("../testing.js");
  const r = infer({
    inputs: { x: f32([5, 2, 3]), w: f32([2, 16, 3]), r: f32([2, 16, 4]) },
    nodes: [{ op: "LSTM", inputs: ["x", "w", "r"], outputs: ["y"], attrs: { hidden_size: 4, direction: "bidirectional" } }],
    outputs: ["y"],
  });
  assert.equal(r.nodes[0]?.flops, 5 * 2 * 2 * (2 * 4 * 4 * (3 + 4) + 4 * 3 * 4));
});
