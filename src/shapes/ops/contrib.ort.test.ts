/**
 * The contrib and quantized rules against onnxruntime itself: each case is a one-node model, run on CPU
 * by onnxruntime-node, and every output's real dims must equal the dims memlens infers for it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { DType } from "../../graph/dtype.js";
import { encodeModel } from "../../formats/onnx/writer.js";
import { createSession, type HostTensor, type TensorType } from "../../runtime/ort.js";
import { inferModel } from "../engine.js";
import { buildModel, constTensor, type AttrSpec, type GraphSpec } from "../testing.js";
import { onnxTensorValues } from "../../formats/onnx/values.js";

type Input = { dtype: DType & TensorType; shape: number[]; fill?: number; value?: number[] } | null;
interface Case {
  name: string;
  op: string;
  domain?: string;
  opset?: number;
  outputs: number;
  attrs?: Record<string, AttrSpec>;
  inputs: Input[];
}

const f = (...shape: number[]): Input => ({ dtype: "float32", shape });
const i32 = (shape: number[], fill: number): Input => ({ dtype: "int32", shape, fill });
/** A constant (initializer): its value is known to inference, as in real models. */
const k = (dtype: "float32" | "uint8" | "int32", value: number): Input => ({ dtype, shape: [], value: [value] });
const MS = "com.microsoft";

const CASES: Case[] = [
  { name: "GQA, past 5 + 3 new tokens, total_sequence_length known", op: "GroupQueryAttention", domain: MS, outputs: 3, attrs: { num_heads: 8, kv_num_heads: 2 },
    inputs: [f(1, 3, 128), f(1, 3, 32), f(1, 3, 32), f(1, 2, 5, 16), f(1, 2, 5, 16), i32([1], 7), { dtype: "int32", shape: [], value: [8] }] },
  { name: "GQA, past 5 + 1 new token, total_sequence_length fed", op: "GroupQueryAttention", domain: MS, outputs: 3, attrs: { num_heads: 8, kv_num_heads: 2 },
    inputs: [f(2, 1, 128), f(2, 1, 32), f(2, 1, 32), f(2, 2, 5, 16), f(2, 2, 5, 16), i32([2], 5), i32([], 6)] },
  { name: "GQA, shared 16-long buffer", op: "GroupQueryAttention", domain: MS, outputs: 3, attrs: { num_heads: 8, kv_num_heads: 2 },
    inputs: [f(2, 1, 128), f(2, 1, 32), f(2, 1, 32), f(2, 2, 16, 16), f(2, 2, 16, 16), i32([2], 7), { dtype: "int32", shape: [], value: [8] }] },
  { name: "GQA, packed QKV prompt", op: "GroupQueryAttention", domain: MS, outputs: 3, attrs: { num_heads: 4, kv_num_heads: 2 },
    inputs: [f(1, 6, 128), null, null, f(1, 2, 0, 16), f(1, 2, 0, 16), i32([1], 5), i32([], 6)] },
  { name: "MultiHeadAttention with past", op: "MultiHeadAttention", domain: MS, outputs: 3, attrs: { num_heads: 4 },
    inputs: [f(2, 3, 64), f(2, 3, 64), f(2, 3, 64), null, null, null, f(2, 4, 5, 16), f(2, 4, 5, 16)] },
  { name: "MultiHeadAttention, projected BNSH key/value", op: "MultiHeadAttention", domain: MS, outputs: 1, attrs: { num_heads: 4 },
    inputs: [f(2, 3, 64), f(2, 4, 7, 16), f(2, 4, 7, 16)] },
  { name: "Attention with past", op: "Attention", domain: MS, outputs: 2, attrs: { num_heads: 4, unidirectional: 1 },
    inputs: [f(2, 3, 32), f(32, 192), f(192), null, f(2, 2, 4, 5, 16)] },
  { name: "Attention, qkv_hidden_sizes", op: "Attention", domain: MS, outputs: 1, attrs: { num_heads: 4, qkv_hidden_sizes: [64, 64, 32] },
    inputs: [f(2, 5, 48), f(48, 160), f(160)] },
  { name: "MatMulNBits 4-bit, block 32", op: "MatMulNBits", domain: MS, outputs: 1, attrs: { K: 256, N: 48, bits: 4, block_size: 32 },
    inputs: [f(2, 3, 256), { dtype: "uint8", shape: [48, 8, 16] }, f(384)] },
  { name: "MatMulNBits 4-bit, block 128", op: "MatMulNBits", domain: MS, outputs: 1, attrs: { K: 256, N: 48, bits: 4, block_size: 128 },
    inputs: [f(5, 256), { dtype: "uint8", shape: [48, 2, 64] }, f(48, 2)] },
  { name: "RotaryEmbedding", op: "RotaryEmbedding", domain: MS, outputs: 1, attrs: { num_heads: 4 },
    inputs: [f(2, 3, 64), { dtype: "int64", shape: [2, 3] }, f(16, 8), f(16, 8)] },
  { name: "SkipLayerNormalization", op: "SkipLayerNormalization", domain: MS, outputs: 4, inputs: [f(2, 3, 16), f(2, 3, 16), f(16), f(16)] },
  { name: "SkipSimplifiedLayerNormalization", op: "SkipSimplifiedLayerNormalization", domain: MS, outputs: 4, inputs: [f(2, 3, 16), f(2, 3, 16), f(16)] },
  { name: "SimplifiedLayerNormalization (ai.onnx)", op: "SimplifiedLayerNormalization", opset: 17, outputs: 2, attrs: { axis: -1 }, inputs: [f(2, 3, 16), f(16)] },
  { name: "EmbedLayerNormalization", op: "EmbedLayerNormalization", domain: MS, outputs: 3,
    inputs: [i32([2, 5], 0), i32([2, 5], 0), f(30, 16), f(8, 16), f(2, 16), f(16), f(16), i32([2, 5], 1)] },
  { name: "GatherBlockQuantized, 4-bit uint8 table", op: "GatherBlockQuantized", domain: MS, outputs: 1, attrs: { bits: 4, block_size: 16, gather_axis: 0, quantize_axis: 1 },
    inputs: [{ dtype: "uint8", shape: [10, 16] }, { dtype: "int64", shape: [2, 3] }, f(10, 2)] },
  { name: "FusedMatMul transBatchA", op: "FusedMatMul", domain: MS, outputs: 1, attrs: { transBatchA: 1 }, inputs: [f(4, 2, 3), f(2, 3, 6)] },
  { name: "FusedMatMul transA transB", op: "FusedMatMul", domain: MS, outputs: 1, attrs: { transA: 1, transB: 1 }, inputs: [f(2, 4, 3), f(2, 5, 4)] },
  { name: "FusedConv", op: "FusedConv", domain: MS, outputs: 1, attrs: { activation: "Relu", strides: [2, 2], pads: [1, 1, 1, 1] }, inputs: [f(1, 3, 9, 9), f(8, 3, 3, 3)] },
  { name: "FusedGemm", op: "FusedGemm", domain: MS, outputs: 1, attrs: { transB: 1, activation: "Relu" }, inputs: [f(3, 5), f(7, 5)] },
  { name: "FastGelu, BiasGelu-style bias", op: "FastGelu", domain: MS, outputs: 1, inputs: [f(2, 8), f(8)] },
  { name: "QLinearConcat", op: "QLinearConcat", domain: MS, outputs: 1, attrs: { axis: 1 },
    inputs: [k("float32", 1), k("uint8", 0), { dtype: "uint8", shape: [1, 2, 3] }, k("float32", 1), k("uint8", 0), { dtype: "uint8", shape: [1, 5, 3] }, k("float32", 1), k("uint8", 0)] },
  { name: "QLinearGlobalAveragePool, channels_last", op: "QLinearGlobalAveragePool", domain: MS, outputs: 1, attrs: { channels_last: 1 },
    inputs: [{ dtype: "uint8", shape: [1, 7, 7, 16] }, k("float32", 1), k("uint8", 0), k("float32", 1), k("uint8", 0)] },
  { name: "MatMulIntegerToFloat", op: "MatMulIntegerToFloat", domain: MS, outputs: 1,
    inputs: [{ dtype: "uint8", shape: [2, 3, 4] }, { dtype: "int8", shape: [4, 5] }, k("float32", 1), k("float32", 1)] },
  { name: "QuantizeLinear, blocked (opset 21)", op: "QuantizeLinear", opset: 21, outputs: 1, attrs: { axis: 1, block_size: 16, output_dtype: 3 }, inputs: [f(4, 32), f(4, 2)] },
  { name: "GRU reverse", op: "GRU", outputs: 2, attrs: { hidden_size: 3, direction: "reverse" }, inputs: [f(4, 2, 5), f(1, 9, 5), f(1, 9, 3)] },
  { name: "LSTM bidirectional", op: "LSTM", outputs: 3, attrs: { hidden_size: 4, direction: "bidirectional" }, inputs: [f(3, 5, 2), f(2, 16, 2), f(2, 16, 4)] },
];

function zeros(dtype: TensorType, n: number, fill: number): HostTensor["data"] {
  switch (dtype) {
    case "int64":
      return new BigInt64Array(n).fill(BigInt(fill));
    case "int32":
      return new Int32Array(n).fill(fill);
    case "uint8":
      return new Uint8Array(n).fill(fill);
    case "int8":
      return new Int8Array(n).fill(fill);
    default:
      return new Float32Array(n).fill(fill);
  }
}

for (const c of CASES) {
  test(`onnxruntime agrees: ${c.name}`, async () => {
    const inputs: GraphSpec["inputs"] = {};
    const feeds: Record<string, HostTensor> = {};
    const initializers = [];
    const names: string[] = [];
    for (const [i, x] of c.inputs.entries()) {
      if (!x) {
        names.push("");
        continue;
      }
      const name = `x${i}`;
      names.push(name);
      if (x.value) initializers.push(constTensor(name, x.dtype, x.shape, x.value));
      else {
        inputs[name] = { dtype: x.dtype, shape: x.shape };
        const n = x.shape.reduce((a, b) => a * b, 1);
        feeds[name] = { type: x.dtype, dims: x.shape, data: zeros(x.dtype, n, x.fill ?? 0) };
      }
    }
    const outs = Array.from({ length: c.outputs }, (_, i) => `y${i}`);
    const spec: GraphSpec = {
      inputs,
      initializers,
      nodes: [{ op: c.op, domain: c.domain ?? "", inputs: names, outputs: outs, attrs: c.attrs ?? {} }],
      outputs: outs,
      opsets: { "": c.opset ?? 21, [MS]: 1 },
    };
    const inferred = inferModel(buildModel(spec), { tensorValues: onnxTensorValues() });
    const session = await createSession(encodeModel(buildModel(spec)), { optimization: "disabled", provider: "cpu" });
    try {
      const result = await session.run(feeds);
      for (const o of outs) {
        const real = result[o];
        if (!real) continue; // an optional output the kernel does not produce
        assert.deepEqual(inferred.values.get(o)?.shape, [...real.dims], `${o}: memlens vs onnxruntime`);
      }
    } finally {
      await session.release();
    }
  });
}
