import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString } from "../../sym/expr.js";
import { constTensor, infer, inferOp, type AttrSpec, type ShapeSpec } from "../testing.js";

interface Case {
  name: string;
  op: string;
  x: ShapeSpec;
  attrs: Record<string, AttrSpec>;
  opset?: number;
  want: string;
}

const CASES: Case[] = [
  { name: "2x2 stride 2", op: "MaxPool", x: ["N", 64, 112, 112], attrs: { kernel_shape: [2, 2], strides: [2, 2] }, want: "[N,64,56,56]" },
  { name: "resnet 3x3 s2 p1", op: "MaxPool", x: [1, 64, 112, 112], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, want: "[1,64,56,56]" },
  { name: "ceil_mode rounds up", op: "MaxPool", x: [1, 1, 4, 4], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, want: "[1,1,2,2]" },
  { name: "floor without ceil_mode", op: "MaxPool", x: [1, 1, 4, 4], attrs: { kernel_shape: [3, 3], strides: [2, 2] }, want: "[1,1,1,1]" },
  // The last window would start past the input (in the end padding): dropped, as onnxruntime and PyTorch do.
  { name: "ceil_mode drops a window that starts in the padding", op: "MaxPool", x: [1, 1, 2, 2], attrs: { kernel_shape: [1, 1], strides: [2, 2], ceil_mode: 1 }, want: "[1,1,1,1]" },
  { name: "ceil_mode with pads", op: "AveragePool", x: [1, 3, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, want: "[1,3,4,4]" },
  { name: "ceil_mode is not an attribute before opset 10", op: "AveragePool", x: [1, 1, 4, 4], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, opset: 7, want: "[1,1,1,1]" },
  { name: "dilations", op: "MaxPool", x: [1, 1, 4, 4], attrs: { kernel_shape: [2, 2], dilations: [2, 2] }, want: "[1,1,2,2]" },
  { name: "SAME_UPPER", op: "MaxPool", x: [1, 1, 5, 5], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_UPPER" }, want: "[1,1,3,3]" },
  { name: "1-D", op: "AveragePool", x: [1, 3, 32], attrs: { kernel_shape: [2] }, want: "[1,3,31]" },
  { name: "3-D", op: "MaxPool", x: [1, 3, 8, 8, 8], attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }, want: "[1,3,4,4,4]" },
  { name: "symbolic spatial", op: "AveragePool", x: ["N", 3, "H", "W"], attrs: { kernel_shape: [2, 2], strides: [2, 2] }, want: "[N,3,floor(H/2),floor(W/2)]" },
  { name: "LpPool", op: "LpPool", x: [1, 3, 32, 32], attrs: { kernel_shape: [2, 2], strides: [2, 2], p: 2 }, want: "[1,3,16,16]" },
  { name: "GlobalAveragePool", op: "GlobalAveragePool", x: ["N", 512, 7, 7], attrs: {}, want: "[N,512,1,1]" },
  { name: "GlobalMaxPool 3-D", op: "GlobalMaxPool", x: [1, 8, 3, 4, 5], attrs: {}, want: "[1,8,1,1,1]" },
  { name: "GlobalLpPool", op: "GlobalLpPool", x: [2, 3, 5], attrs: { p: 2 }, want: "[2,3,1]" },
];

for (const c of CASES) {
  test(`${c.op}: ${c.name}`, () => {
    const r = inferOp(c.op, [{ dtype: "float32", shape: c.x }], c.attrs, c.opset !== undefined ? { opset: c.opset } : {});
    assert.deepEqual(r.shapes, [c.want], r.warnings.join("; "));
  });
}

test("MaxPool: the optional Indices output is int64 with Y's shape", () => {
  const r = inferOp("MaxPool", [{ dtype: "float16", shape: [1, 2, 4, 4] }], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 }, { outputs: 2 });
  assert.deepEqual(r.shapes, ["[1,2,2,2]", "[1,2,2,2]"]);
  assert.equal(r.out[0]?.dtype, "float16");
  assert.equal(r.out[1]?.dtype, "int64");
});

test("MaxPool: ceil_mode on a symbolic dim that may lose a window says so", () => {
  const r = inferOp("MaxPool", [{ dtype: "float32", shape: [1, 1, "H"] }], { kernel_shape: [2], strides: [2], pads: [0, 1], ceil_mode: 1 });
  assert.deepEqual(r.shapes, ["[1,1,floor(H/2) + 1]"]);
  assert.match(r.warnings.join("\n"), /may be one smaller/);
});

test("MaxPool: missing kernel_shape is an error, not a guess", () => {
  const r = inferOp("MaxPool", [{ dtype: "float32", shape: [1, 1, 4, 4] }], {});
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /kernel_shape/);
});

test("RoiAlign and MaxRoiPool: one pooled map per ROI", () => {
  const a = inferOp(
    "RoiAlign",
    [{ dtype: "float32", shape: [1, 256, 50, 50] }, { dtype: "float32", shape: ["R", 4] }, { dtype: "int64", shape: ["R"] }],
    { output_height: 7, output_width: 5 },
  );
  assert.deepEqual(a.shapes, ["[R,256,7,5]"]);
  const m = inferOp("MaxRoiPool", [{ dtype: "float32", shape: [1, 3, 10, 10] }, { dtype: "float32", shape: [4, 5] }], { pooled_shape: [2, 3] });
  assert.deepEqual(m.shapes, ["[4,3,2,3]"]);
});

test("MaxUnpool: inverse size by default, output_shape input when given", () => {
  const x = { dtype: "float32" as const, shape: [1, 1, 2, 2] };
  const i = { dtype: "int64" as const, shape: [1, 1, 2, 2] };
  assert.deepEqual(inferOp("MaxUnpool", [x, i], { kernel_shape: [2, 2], strides: [2, 2] }).shapes, ["[1,1,4,4]"]);
  const outShape = constTensor("os", "int64", [4], [1, 1, 5, 5]);
  assert.deepEqual(inferOp("MaxUnpool", [x, i, outShape], { kernel_shape: [2, 2], strides: [2, 2] }).shapes, ["[1,1,5,5]"]);
});

test("pool FLOPs: kernel size per output element; global pools one per input element", () => {
  const run = (op: string, attrs: Record<string, AttrSpec>) =>
    dimToString(
      infer({ inputs: { x: { dtype: "float32", shape: ["N", 4, 8, 8] } }, nodes: [{ op, inputs: ["x"], outputs: ["y"], attrs }], outputs: ["y"] })
        .nodes[0]!.flops!,
    );
  assert.equal(run("MaxPool", { kernel_shape: [2, 2], strides: [2, 2] }), "256*N");
  assert.equal(run("GlobalAveragePool", {}), "256*N");
});
