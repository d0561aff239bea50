import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString, equal } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { infer, inferOp, type AttrSpec, type ShapeSpec } from "../testing.js";

interface Case {
  name: string;
  op: "Conv" | "ConvTranspose";
  x: ShapeSpec;
  w: ShapeSpec;
  attrs?: Record<string, AttrSpec>;
  want: string;
}

const CASES: Case[] = [
  { name: "3x3 pad 1 keeps size, symbolic batch", op: "Conv", x: ["N", 3, 224, 224], w: [64, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, want: "[N,64,224,224]" },
  { name: "7x7 stride 2 pad 3 (resnet stem)", op: "Conv", x: [1, 3, 224, 224], w: [64, 3, 7, 7], attrs: { strides: [2, 2], pads: [3, 3, 3, 3] }, want: "[1,64,112,112]" },
  { name: "no pads", op: "Conv", x: [1, 1, 5, 5], w: [1, 1, 3, 3], want: "[1,1,3,3]" },
  { name: "asymmetric pads", op: "Conv", x: [1, 1, 7, 5], w: [1, 1, 3, 3], attrs: { strides: [2, 2], pads: [1, 0, 1, 0] }, want: "[1,1,4,2]" },
  { name: "dilation 2", op: "Conv", x: [1, 1, 7, 7], w: [1, 1, 3, 3], attrs: { dilations: [2, 2] }, want: "[1,1,3,3]" },
  { name: "SAME_UPPER is ceil(in/stride)", op: "Conv", x: [1, 1, 7, 5], w: [1, 1, 3, 3], attrs: { auto_pad: "SAME_UPPER", strides: [2, 2] }, want: "[1,1,4,3]" },
  { name: "SAME_LOWER symbolic", op: "Conv", x: [1, 1, "H", "W"], w: [1, 1, 3, 3], attrs: { auto_pad: "SAME_LOWER", strides: [2, 1] }, want: "[1,1,ceil(H/2),W]" },
  { name: "VALID", op: "Conv", x: [1, 1, 7, 5], w: [1, 1, 3, 3], attrs: { auto_pad: "VALID", strides: [2, 2] }, want: "[1,1,3,2]" },
  { name: "symbolic spatial with stride", op: "Conv", x: ["N", 3, "H", 32], w: [8, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, want: "[N,8,floor((H - 1)/2) + 1,16]" },
  { name: "depthwise groups", op: "Conv", x: [2, 32, 112, 112], w: [32, 1, 3, 3], attrs: { group: 32, pads: [1, 1, 1, 1] }, want: "[2,32,112,112]" },
  { name: "1-D", op: "Conv", x: [1, 4, 10], w: [6, 4, 3], want: "[1,6,8]" },
  { name: "3-D", op: "Conv", x: [1, 2, 8, 8, 8], w: [4, 2, 3, 3, 3], attrs: { strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] }, want: "[1,4,4,4,4]" },
  { name: "kernel_shape attribute wins over weights", op: "Conv", x: [1, 1, 5, 5], w: [1, 1, 3, 3], attrs: { kernel_shape: [3, 3] }, want: "[1,1,3,3]" },
  { name: "transpose stride 2 doubles", op: "ConvTranspose", x: [1, 8, 4, 4], w: [8, 3, 4, 4], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, want: "[1,3,8,8]" },
  { name: "transpose output_padding", op: "ConvTranspose", x: [1, 1, 3, 3], w: [1, 2, 3, 3], attrs: { strides: [3, 2], output_padding: [1, 1] }, want: "[1,2,10,8]" },
  { name: "transpose output_shape", op: "ConvTranspose", x: [1, 1, 3, 3], w: [1, 2, 3, 3], attrs: { strides: [3, 2], output_shape: [10, 8] }, want: "[1,2,10,8]" },
  { name: "transpose SAME_UPPER is in*stride", op: "ConvTranspose", x: [1, 1, 3, 3], w: [1, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: "SAME_UPPER" }, want: "[1,2,6,6]" },
  { name: "transpose dilations", op: "ConvTranspose", x: [1, 1, 3, 3], w: [1, 1, 2, 2], attrs: { dilations: [2, 2] }, want: "[1,1,5,5]" },
  { name: "transpose groups multiply output channels", op: "ConvTranspose", x: ["N", 4, 5], w: [4, 3, 3], attrs: { group: 2 }, want: "[N,6,7]" },
  { name: "transpose symbolic", op: "ConvTranspose", x: [1, 8, "H", 4], w: [8, 3, 2, 2], attrs: { strides: [2, 2] }, want: "[1,3,2*H,8]" },
];

for (const c of CASES) {
  test(`${c.op}: ${c.name}`, () => {
    const r = inferOp(c.op, [{ dtype: "float32", shape: c.x }, { dtype: "float32", shape: c.w }], c.attrs ?? {});
    assert.deepEqual(r.shapes, [c.want], r.warnings.join("; "));
    assert.equal(r.out[0]?.dtype, "float32");
  });
}

test("Conv: channel mismatch is a shape error naming both counts", () => {
  const r = inferOp("Conv", [{ dtype: "float32", shape: [1, 4, 8, 8] }, { dtype: "float32", shape: [2, 3, 3, 3] }]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /4 channels.*expect 3/);
});

test("Conv: a kernel larger than the padded input is an error", () => {
  const r = inferOp("Conv", [{ dtype: "float32", shape: [1, 1, 2, 2] }, { dtype: "float32", shape: [1, 1, 3, 3] }]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /larger than padded input/);
});

function flopsOf(op: string, x: ShapeSpec, w: ShapeSpec, attrs: Record<string, AttrSpec> = {}): string {
  const r = infer({
    inputs: { x: { dtype: "float32", shape: x }, w: { dtype: "float32", shape: w } },
    nodes: [{ op, inputs: ["x", "w"], outputs: ["y"], attrs }],
    outputs: ["y"],
  });
  const f = r.nodes[0]?.flops;
  assert.notEqual(f, undefined);
  return dimToString(f!);
}

test("Conv FLOPs: 2 * N * Cout * out spatial * Cin/groups * kernel", () => {
  // resnet stem: 2 * 1 * 64 * 112*112 * 3 * 49
  assert.equal(flopsOf("Conv", [1, 3, 224, 224], [64, 3, 7, 7], { strides: [2, 2], pads: [3, 3, 3, 3] }), String(2 * 64 * 112 * 112 * 3 * 49));
  // depthwise: Cin/groups = 1
  assert.equal(flopsOf("Conv", [2, 32, 10, 10], [32, 1, 3, 3], { group: 32, pads: [1, 1, 1, 1] }), String(2 * 2 * 32 * 100 * 9));
  assert.equal(flopsOf("Conv", ["N", 3, 8, 8], [4, 3, 1, 1]), "1536*N");
});

test("ConvTranspose FLOPs: every input element times Cout/groups * kernel", () => {
  assert.equal(flopsOf("ConvTranspose", [1, 8, 4, 4], [8, 3, 4, 4], { strides: [2, 2], pads: [1, 1, 1, 1] }), String(2 * 8 * 16 * 3 * 16));
});

test("DeformConv (opset 19): Conv's output; the offset must cover the output grid", () => {
  const x = { dtype: "float32" as const, shape: [1, 4, 8, 8] };
  const w = { dtype: "float32" as const, shape: [6, 4, 3, 3] };
  const ok = inferOp("DeformConv", [x, w, { dtype: "float32", shape: [1, 18, 6, 6] }], {}, { opset: 19 });
  assert.deepEqual(ok.shapes, ["[1,6,6,6]"]);
  const bad = inferOp("DeformConv", [x, w, { dtype: "float32", shape: [1, 18, 8, 8] }], {}, { opset: 19 });
  assert.equal(bad.out[0]?.shape, undefined);
  assert.match(bad.warnings.join("\n"), /offset spatial dim 0 is 8/);
});

test("window ops: attributes that would give an empty output are an error", () => {
  const valid = inferOp("Conv", [{ dtype: "float32", shape: [1, 1, 2, 2] }, { dtype: "float32", shape: [1, 1, 3, 3] }], { auto_pad: "VALID" });
  assert.match(valid.warnings.join("\n"), /output spatial dim 0 would be 0/);
  const t = inferOp("ConvTranspose", [{ dtype: "float32", shape: [1, 1, 2, 2] }, { dtype: "float32", shape: [1, 1, 3, 3] }], { pads: [3, 3, 3, 3] });
  assert.equal(t.out[0]?.shape, undefined);
  assert.match(t.warnings.join("\n"), /would be -2/);
});

test("symbolic window dims equal PyTorch's exporter spelling, term for term", () => {
  const conv = inferOp("Conv", [{ dtype: "float32", shape: [1, 3, "H", "W"] }, { dtype: "float32", shape: [8, 3, 3, 3] }], { strides: [2, 2], pads: [1, 1, 1, 1] });
  const pool = inferOp("MaxPool", [{ dtype: "float32", shape: [1, 3, "H", "W"] }], { kernel_shape: [2, 2], strides: [2, 2] });
  const [, , ch, cw] = conv.out[0]!.shape!;
  const [, , ph] = pool.out[0]!.shape!;
  assert.ok(equal(ch!, parseDim("((H - 1)//2) + 1")), dimToString(ch!));
  assert.ok(equal(cw!, parseDim("1 + ((W - 1)//2)")), dimToString(cw!));
  assert.ok(equal(ph!, parseDim("(H//2)")), dimToString(ph!));
});
