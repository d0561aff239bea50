import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, inferOp } from "../testing.js";

const t = (dtype: "float32" | "uint8" | "int8" | "float16" | "int32", shape: (number | string)[]) => ({ dtype, shape });

test("QuantizeLinear: output type from the zero point, else output_dtype (opset 21), else uint8", () => {
  const zp = inferOp("QuantizeLinear", [t("float32", ["n", 4]), t("float32", []), t("int8", [])]);
  assert.deepEqual([zp.shapes[0], zp.out[0]?.dtype], ["[n,4]", "int8"]);
  const attr = inferOp("QuantizeLinear", [t("float32", [2, 4]), t("float32", [])], { output_dtype: 22 }, { opset: 21 });
  assert.equal(attr.out[0]?.dtype, "int4");
  assert.equal(inferOp("QuantizeLinear", [t("float32", [2]), t("float32", [])], {}, { opset: 13 }).out[0]?.dtype, "uint8");
});

test("blocked quantization (opset 21) checks the scale's block count", () => {
  const ok = inferOp("DequantizeLinear", [t("int8", [4, 64]), t("float16", [4, 2])], { axis: 1, block_size: 32 }, { opset: 21 });
  assert.deepEqual([ok.shapes[0], ok.out[0]?.dtype], ["[4,64]", "float16"]);
  const bad = inferOp("DequantizeLinear", [t("int8", [4, 64]), t("float16", [4, 3])], { axis: 1, block_size: 32 }, { opset: 21 });
  assert.equal(bad.out[0]?.shape, undefined);
  assert.match(bad.warnings.join("\n"), /blocks/);
});

test("DynamicQuantizeLinear: uint8 data, scalar scale and zero point", () => {
  const r = inferOp("DynamicQuantizeLinear", [t("float32", ["b", 3])], {}, { outputs: 3 });
  assert.deepEqual(r.shapes, ["[b,3]", "[]", "[]"]);
  assert.deepEqual(r.out.map((o) => o?.dtype), ["uint8", "float32", "uint8"]);
});

test("QLinearConv and ConvInteger: conv shapes with quantized / int32 outputs", () => {
  const s = t("float32", []);
  const q = inferOp("QLinearConv", [t("uint8", [1, 3, 9, 9]), s, t("uint8", []), t("int8", [8, 3, 3, 3]), s, t("int8", []), s, t("int8", [])], { strides: [2, 2], pads: [1, 1, 1, 1] });
  assert.deepEqual([q.shapes[0], q.out[0]?.dtype], ["[1,8,5,5]", "int8"]);
  const c = inferOp("ConvInteger", [t("uint8", [1, 1, 5, 5]), t("uint8", [1, 1, 3, 3])]);
  assert.deepEqual([c.shapes[0], c.out[0]?.dtype], ["[1,1,3,3]", "int32"]);
});

test("QLinearMatMul and MatMulInteger: matmul shapes", () => {
  const s = t("float32", []);
  const q = inferOp("QLinearMatMul", [t("uint8", [2, "m", 4]), s, t("uint8", []), t("uint8", [4, 3]), s, t("uint8", []), s, t("uint8", [])]);
  assert.deepEqual([q.shapes[0], q.out[0]?.dtype], ["[2,m,3]", "uint8"]);
  const m = inferOp("MatMulInteger", [t("uint8", [4, 3]), t("int8", [3, 2])]);
  assert.deepEqual([m.shapes[0], m.out[0]?.dtype], ["[4,2]", "int32"]);
  assert.match(inferOp("MatMulInteger", [t("uint8", [4, 3]), t("int8", [5, 2])]).warnings.join(), /inner dims/);
});

test("contrib QLinearAdd broadcasts; QLinearGlobalAveragePool honours channels_last; QLinearConcat", () => {
  const s = t("float32", []);
  const z = t("uint8", []);
  const o = { domain: "com.microsoft" };
  assert.deepEqual(inferOp("QLinearAdd", [t("uint8", [2, 1, 4]), s, z, t("uint8", [3, 1]), s, z, s, z], {}, o).shapes, ["[2,3,4]"]);
  assert.deepEqual(inferOp("QLinearGlobalAveragePool", [t("uint8", [1, 7, 7, 16]), s, z, s, z], { channels_last: 1 }, o).shapes, ["[1,1,1,16]"]);
  const zp = constTensor("zp", "uint8", [], [0]);
  const r = inferOp("QLinearConcat", [s, zp, t("uint8", [1, 2]), s, z, t("uint8", [1, 5]), s, z], { axis: 1 }, o);
  assert.deepEqual([r.shapes[0], r.out[0]?.dtype], ["[1,7]", "uint8"]);
});

test("contrib QGemm: (M, N), quantized with y_scale, float without", () => {
  const s = t("float32", []);
  const z = t("uint8", []);
  const o = { domain: "com.microsoft" };
  const q = inferOp("QGemm", [t("uint8", [3, 1280]), s, z, t("int8", [10, 1280]), s, t("int8", []), t("int32", [10]), s, t("int8", [])], { transB: 1 }, o);
  assert.deepEqual([q.shapes[0], q.out[0]?.dtype], ["[3,10]", "int8"]);
  const f = inferOp("QGemm", [t("uint8", [3, 1280]), s, z, t("int8", [1280, 10]), s, t("int8", [])], {}, o);
  assert.deepEqual([f.shapes[0], f.out[0]?.dtype], ["[3,10]", "float32"]);
});
