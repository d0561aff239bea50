import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Model, Node } from "../graph/ir.js";
import { loadModelFile } from "../formats/load-node.js";
import { encodeModel, tensorFromBytes } from "../formats/onnx/writer.js";
import { createSession, type HostTensor } from "../runtime/ort.js";
import { quantizeGraph } from "./quantize.js";
import { defaultOutputPath, saveModel } from "./save.js";
import { dequantizeBlocks4 } from "./weights.js";
import { tempDir } from "../../test/temp.js";

const FASHION = new URL("../../../models/fashion-mobilenetv2/model.onnx", import.meta.url).pathname;
const FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

function random(n: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 2 - 1;
  }
  return out;
}

const f32 = (name: string, dims: number[], v: Float32Array) => tensorFromBytes(name, "float32", dims, new Uint8Array(v.buffer));

/** x [B, K] -> MatMul(W1 [K, H]) -> Gemm(W2 [N, H], transB, bias) -> y [B, N], random weights. */
function mlp(k: number, h: number, n: number): { model: Model; w1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const w1 = random(k * h, 3);
  const w2 = random(n * h, 5);
  const b2 = random(n, 9);
  const nodes: Node[] = [
    { name: "mm", opType: "MatMul", domain: "", inputs: ["x", "w1"], outputs: ["hid"], attrs: {} },
    { name: "gemm", opType: "Gemm", domain: "", inputs: ["hid", "w2", "b2"], outputs: ["y"], attrs: { transB: { type: "int", value: 1 } } },
  ];
  const model: Model = {
    format: "onnx", file: "mlp.onnx", irVersion: 8, producer: "memlens-test", opsets: { "": 17 }, metadata: {}, warnings: [],
    graph: {
      name: "mlp", nodes,
      inputs: [{ name: "x", type: { kind: "tensor", dtype: "float32", shape: [4, k] } }],
      outputs: [{ name: "y", type: { kind: "tensor", dtype: "float32", shape: [4, n] } }],
      initializers: new Map([["w1", f32("w1", [k, h], w1)], ["w2", f32("w2", [n, h], w2)], ["b2", f32("b2", [n], b2)]]),
      valueInfo: new Map(),
    },
  };
  return { model, w1, w2, b2 };
}

async function runOnce(model: Model, x: HostTensor): Promise<Float32Array> {
  const s = await createSession(encodeModel(model), { provider: "cpu" });
  try {
    return (await s.run({ x }))["y"]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** y = x @ A [K, H] then @ B^T + bias, in float64. */
function reference(x: Float32Array, rows: number, k: number, h: number, n: number, a: Float32Array, bT: Float32Array, bias: Float32Array): Float64Array {
  const hid = new Float64Array(rows * h);
  for (let r = 0; r < rows; r++) for (let j = 0; j < h; j++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += x[r * k + i]! * a[i * h + j]!;
    hid[r * h + j] = s;
  }
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) {
    let s = bias[c]!;
    for (let j = 0; j < h; j++) s += hid[r * h + j]! * bT[c * h + j]!;
    y[r * n + c] = s;
  }
  return y;
}

for (const blockSize of [32, 128] as const) {
  test(`int4 MatMulNBits (block ${blockSize}): ORT output equals the 4-bit weights' math, error within the 4-bit bound, weights <= 1/6`, async () => {
    const [k, h, n] = [256, 96, 10];
    const { model, w1, w2, b2 } = mlp(k, h, n);
    const { model: q, report } = await quantizeGraph(model, { bits: 4, blockSize });
    assert.equal(report.nodes.quantized, 2);
    assert.ok(q.graph.nodes.filter((x) => x.opType === "MatMulNBits").length === 2);
    assert.equal(q.opsets["com.microsoft"], 1);
    assert.ok(report.weightBytes.after <= report.weightBytes.before / 6, `${report.weightBytes.after} vs ${report.weightBytes.before}`);
    const x = { type: "float32" as const, dims: [4, k], data: random(4 * k, 11) };
    const yFloat = await runOnce(model, x);
    const yQuant = await runOnce(q, x);
    // The dequantized weights, as the quantizer wrote them: ORT must compute exactly this network.
    const read = (name: string) => {
      const t = q.graph.initializers.get(name)!;
      const b = t.source.read(t.data.kind === "embedded" && t.data.raw ? t.data.raw.offset : 0, t.bytes);
      return new Uint8Array(b);
    };
    const scalesOf = (name: string) => new Float32Array(read(name).slice().buffer);
    const blocks1 = Math.ceil(k / blockSize);
    const blocks2 = Math.ceil(h / blockSize);
    const dq1 = dequantizeBlocks4({ packed: read("w1_int4"), scales: scalesOf("w1_scales"), zeroPoints: read("w1_zero_points"), blocksPerCol: blocks1 }, k, h, blockSize);
    const dq2kn = dequantizeBlocks4({ packed: read("w2_int4"), scales: scalesOf("w2_scales"), zeroPoints: read("w2_zero_points"), blocksPerCol: blocks2 }, h, n, blockSize);
    const dq2 = new Float32Array(n * h);
    for (let j = 0; j < h; j++) for (let c = 0; c < n; c++) dq2[c * h + j] = dq2kn[j * n + c]!;
    const yExpected = reference(x.data, 4, k, h, n, dq1, dq2, b2);
    const yExact = reference(x.data, 4, k, h, n, w1, w2, b2);
    let errSq = 0;
    let refSq = 0;
    for (let i = 0; i < yQuant.length; i++) {
      assert.ok(Math.abs(yQuant[i]! - yExpected[i]!) <= 1e-3 * (1 + Math.abs(yExpected[i]!)), `ORT vs 4-bit math at ${i}`);
      assert.ok(Math.abs(yFloat[i]! - yExact[i]!) <= 1e-3 * (1 + Math.abs(yExact[i]!)));
      errSq += (yQuant[i]! - yExact[i]!) ** 2;
      refSq += yExact[i]! ** 2;
    }
    // Expected 4-bit error: rounding noise of step^2/12 per weight; relative to the weights' energy per layer,
    // and the two layers' relative errors add in quadrature.
    const relNoise = (scales: Float32Array, perBlock: number, w: Float32Array) => {
      let noise = 0;
      for (const s of scales) noise += (perBlock * s * s) / 12;
      let energy = 0;
      for (const v of w) energy += v * v;
      return noise / energy;
    };
    const expected = Math.sqrt(relNoise(scalesOf("w1_scales"), blockSize, w1) + relNoise(scalesOf("w2_scales"), blockSize, w2));
    const measured = Math.sqrt(errSq / refSq);
    assert.ok(measured <= 1.5 * expected && measured >= 0.3 * expected, `relative RMS error ${measured}, expected about ${expected}`);
    const maxErr = Math.sqrt(errSq);
    assert.ok(maxErr > 0, "the quantized model must differ from float (else nothing was quantized)");
  });
}

test("int8 static on the fashion model: file <= 30%, accuracy within a point on 1,000 test images", { skip: !existsSync(FASHION_MNIST) && "dataset-fashion-mnist not installed" }, async () => {
  const l = loadModelFile(FASHION);
  try {
    const { model, report } = await quantizeGraph({ model: l.model, path: FASHION, fileBytes: l.source.size }, {
      mode: "static", calibrationLimit: 128, evaluate: FASHION_MNIST, evaluateLimit: 1000,
    });
    assert.equal(report.mode, "static");
    assert.equal(report.calibrationImages, 128);
    assert.ok(report.fileBytes.after <= 0.3 * report.fileBytes.before!, `${report.fileBytes.after}`);
    assert.ok(report.nodes.quantized >= 60, `${report.nodes.quantized} nodes`);
    assert.equal(model.graph.nodes.filter((n) => n.opType === "Clip").length, 0, "every Clip(0, 6) folds into a range");
    const a = report.accuracy!;
    assert.equal(a.images, 1000);
    assert.ok(a.before > 0.88, `float accuracy ${a.before}`);
    assert.ok(a.before - a.after <= 0.015, `drop ${a.before - a.after}`);
    assert.ok(a.agreement >= 0.97, `agreement ${a.agreement}`);
  } finally {
    l.source.close();
  }
});

test("int8 dynamic on the fashion model runs and agrees with float", { skip: !existsSync(FASHION_MNIST) && "dataset-fashion-mnist not installed" }, async () => {
  const l = loadModelFile(FASHION);
  try {
    const { model, report } = await quantizeGraph({ model: l.model, path: FASHION }, { mode: "dynamic", evaluate: FASHION_MNIST, evaluateLimit: 300 });
    assert.equal(report.mode, "dynamic");
    assert.equal(model.graph.nodes.filter((n) => n.opType === "ConvInteger").length, 52);
    assert.ok(report.weightBytes.after <= 0.3 * report.weightBytes.before);
    assert.ok(report.accuracy!.before - report.accuracy!.after <= 0.03, JSON.stringify(report.accuracy));
    assert.ok(report.accuracy!.agreement >= 0.95);
  } finally {
    l.source.close();
  }
});

test("static mode without calibration images is a usage error", async () => {
  const { model } = mlp(8, 4, 2);
  await assert.rejects(quantizeGraph(model, { mode: "static" }), /calibration/);
});

test("--keep-float first,last leaves those layers float and names unknown ones", async () => {
  const { model } = mlp(64, 32, 4);
  const { model: q, report } = await quantizeGraph(model, { bits: 4, keepFloat: ["last", "nope"] });
  assert.deepEqual(q.graph.nodes.map((n) => n.opType), ["MatMulNBits", "Gemm"]);
  assert.deepEqual(report.nodes.keptFloat.map((k) => k.name), ["gemm"]);
  assert.ok(report.warnings.some((w) => w.includes("nope")));
});

test("saving: never over the input, atomically, beside it by default", () => {
  const dir = tempDir("save");
  const input = join(dir, "m.onnx");
  const { model } = mlp(8, 4, 2);
  writeFileSync(input, encodeModel(model));
  const before = statSync(input).size;
  assert.throws(() => saveModel(model, input, input), /that is the input .*refusing to write over it/);
  assert.equal(statSync(input).size, before);
  const out = defaultOutputPath(input, 8);
  assert.equal(out, join(dir, "m.int8.onnx"));
  const size = saveModel(model, out, input);
  assert.equal(statSync(out).size, size);
  assert.deepEqual(readdirSync(dir).sort(), ["m.int8.onnx", "m.onnx"], "no temporary file left behind");
});

test("--bits 4 on a CNN says that int4 applies to MatMul/Gemm weights and that the convolutions stay float", async () => {
  const l = loadModelFile(FASHION);
  try {
    const { report } = await quantizeGraph({ model: l.model, path: FASHION }, { bits: 4 });
    assert.equal(report.nodes.quantized, 1, "the classifier's Gemm");
    assert.equal(report.nodes.keptFloat.filter((k) => k.op === "Conv").length, 52);
    assert.ok(report.warnings.some((w) => /int4 applies to MatMul\/Gemm weights: 1 of 53 weighted layers quantized, the 52 Conv layers stay float/.test(w)), report.warnings.join("; "));
  } finally {
    l.source.close();
  }
});
