import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, inferOp, type AttrSpec } from "../testing.js";

const x = { dtype: "float32" as const, shape: ["B", "S", 768] };

interface Case {
  name: string;
  op: string;
  opset: number;
  attrs?: Record<string, AttrSpec>;
  /** Axes passed as a constant input (opset 18+, ReduceSum 13+). */
  axesInput?: number[];
  want: string;
}

const CASES: Case[] = [
  { name: "axes attribute, keepdims default", op: "ReduceMean", opset: 17, attrs: { axes: [-1] }, want: "[B,S,1]" },
  { name: "axes attribute, keepdims 0", op: "ReduceMean", opset: 13, attrs: { axes: [1, 2], keepdims: 0 }, want: "[B]" },
  { name: "no axes reduces everything", op: "ReduceMax", opset: 13, attrs: { keepdims: 0 }, want: "[]" },
  { name: "no axes, keepdims", op: "ReduceMin", opset: 13, want: "[1,1,1]" },
  { name: "axes input from opset 18", op: "ReduceMean", opset: 18, axesInput: [-1], want: "[B,S,1]" },
  { name: "ReduceSum takes axes as input from 13", op: "ReduceSum", opset: 13, axesInput: [0], attrs: { keepdims: 0 }, want: "[S,768]" },
  { name: "ReduceSum opset 11 still uses the attribute", op: "ReduceSum", opset: 11, attrs: { axes: [0], keepdims: 0 }, want: "[S,768]" },
  { name: "empty axes input reduces everything", op: "ReduceL2", opset: 18, axesInput: [], want: "[1,1,1]" },
  { name: "noop_with_empty_axes leaves the input", op: "ReduceProd", opset: 18, attrs: { noop_with_empty_axes: 1 }, want: "[B,S,768]" },
  { name: "duplicate axes count once", op: "ReduceLogSumExp", opset: 18, axesInput: [1, -2], attrs: { keepdims: 0 }, want: "[B,768]" },
  { name: "ReduceSumSquare", op: "ReduceSumSquare", opset: 18, axesInput: [2], want: "[B,S,1]" },
  { name: "ReduceL1", op: "ReduceL1", opset: 11, attrs: { axes: [0] }, want: "[1,S,768]" },
  { name: "ReduceLogSum", op: "ReduceLogSum", opset: 11, attrs: { axes: [2], keepdims: 0 }, want: "[B,S]" },
];

for (const c of CASES) {
  test(`${c.op} opset ${c.opset}: ${c.name}`, () => {
    const ins = c.axesInput ? [x, constTensor("axes", "int64", [c.axesInput.length], c.axesInput)] : [x];
    const r = inferOp(c.op, ins, c.attrs ?? {}, { opset: c.opset });
    assert.deepEqual(r.shapes, [c.want], r.warnings.join("; "));
  });
}

test("reduce: axes given as a run-time input are a stated unknown, not a guess", () => {
  const r = inferOp("ReduceMean", [x, { dtype: "int64", shape: [1] }], {}, { opset: 18 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /axes input is not a known constant/);
});

test("reduce: an axis out of range is an error", () => {
  const r = inferOp("ReduceSum", [x], { axes: [3] }, { opset: 11 });
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /axis 3 out of range/);
});

test("reduce folds known integer values (ReduceProd of a shape)", () => {
  const shape = constTensor("s", "int64", [3], [2, 3, 4]);
  assert.deepEqual(inferOp("ReduceProd", [shape], { keepdims: 0 }, { opset: 13 }).out[0]?.value, [24]);
  assert.deepEqual(inferOp("ReduceSum", [shape, constTensor("a", "int64", [1], [0])], {}, { opset: 13 }).out[0]?.value, [9]);
  const m = constTensor("m", "int64", [2, 3], [1, 5, 2, 7, 0, 3]);
  assert.deepEqual(inferOp("ReduceMax", [m], { axes: [1], keepdims: 0 }, { opset: 13 }).out[0]?.value, [5, 7]);
  assert.deepEqual(inferOp("ReduceMin", [m], { axes: [0] }, { opset: 13 }).out[0]?.value, [1, 0, 2]);
});

test("ArgMax/ArgMin: int64, keepdims, axis", () => {
  const a = inferOp("ArgMax", [x], { axis: -1 });
  assert.deepEqual(a.shapes, ["[B,S,1]"]);
  assert.equal(a.out[0]?.dtype, "int64");
  assert.deepEqual(inferOp("ArgMin", [x], { axis: 1, keepdims: 0, select_last_index: 1 }).shapes, ["[B,768]"]);
  assert.deepEqual(inferOp("ArgMax", [x], {}).shapes, ["[1,S,768]"]);
});
