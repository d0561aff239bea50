/**
 * Contrib ops have no ONNX backend tests: these check shapes against onnxruntime's
 * docs/ContribOperators.md (the operator schemas of the com.microsoft domain).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { constTensor, infer, inferOp } from "../testing.js";

const MS = { domain: "com.microsoft" };
const f16 = (shape: (number | string)[]) => ({ dtype: "float16" as const, shape });
const f32 = (shape: (number | string)[]) => ({ dtype: "float32" as const, shape });
const i32 = (shape: (number | string)[]) => ({ dtype: "int32" as const, shape });
const u8 = (shape: (number | string)[]) => ({ dtype: "uint8" as const, shape });

// GroupQueryAttention: output (B, S, hidden); present_key/value (B, kv_num_heads, past + kv_seq, head_size), BNSH.
test("GroupQueryAttention with past_key/past_value: present grows by the new tokens", () => {
  const r = inferOp(
    "GroupQueryAttention",
    [f16(["b", "s", 4096]), f16(["b", "s", 1024]), f16(["b", "s", 1024]), f16(["b", 8, "past", 128]), f16(["b", 8, "past", 128]), i32(["b"]), i32([])],
    { num_heads: 32, kv_num_heads: 8 },
    { ...MS, outputs: 3 },
  );
  assert.deepEqual(r.shapes, ["[b,s,4096]", "[b,8,past + s,128]", "[b,8,past + s,128]"]);
  assert.equal(r.out[1]?.dtype, "float16");
  assert.match(r.warnings.join("\n"), /total_sequence_length unknown/);
});

test("GroupQueryAttention packed QKV: head_size = d / (num_heads + 2*kv_num_heads)", () => {
  const r = inferOp(
    "GroupQueryAttention",
    [f16([1, 7, (32 + 2 * 8) * 96]), null, null, f16([1, 8, 0, 96]), f16([1, 8, 0, 96]), i32([1]), i32([])],
    { num_heads: 32, kv_num_heads: 8 },
    { ...MS, outputs: 3 },
  );
  assert.deepEqual(r.shapes, ["[1,7,3072]", "[1,8,7,96]", "[1,8,7,96]"]);
});

test("GroupQueryAttention with a shared buffer: present = max(past buffer, total_sequence_length)", () => {
  const total = constTensor("total", "int32", [], [300]);
  const r = inferOp(
    "GroupQueryAttention",
    [f16([2, 1, 2048]), f16([2, 1, 512]), f16([2, 1, 512]), f16([2, 4, 256, 128]), f16([2, 4, 256, 128]), i32([2]), total],
    { num_heads: 16, kv_num_heads: 4 },
    { ...MS, outputs: 3 },
  );
  assert.deepEqual(r.shapes, ["[2,1,2048]", "[2,4,300,128]", "[2,4,300,128]"]);
});

test("GroupQueryAttention: num_heads not a multiple of kv_num_heads is an error", () => {
  const r = inferOp("GroupQueryAttention", [f16([1, 1, 96]), f16([1, 1, 64]), f16([1, 1, 64]), null, null, i32([1]), i32([])], { num_heads: 3, kv_num_heads: 2 }, MS);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /multiple of kv_num_heads/);
});

// MatMulNBits: B (N, ceil(K/block_size), block_size*bits/8), scales (N*k_blocks), output (..., N).
test("MatMulNBits 4-bit with block_size 32 and 128", () => {
  for (const block of [32, 128]) {
    const kBlocks = Math.ceil(4096 / block);
    const r = inferOp(
      "MatMulNBits",
      [f16(["b", "s", 4096]), u8([11008, kBlocks, block / 2]), f16([11008 * kBlocks])],
      { K: 4096, N: 11008, bits: 4, block_size: block },
      MS,
    );
    assert.deepEqual(r.shapes, ["[b,s,11008]"], `block_size ${block}`);
    assert.equal(r.warnings.length, 0);
  }
});

test("MatMulNBits: a packed B that does not match K, N, bits and block_size is an error", () => {
  const r = inferOp("MatMulNBits", [f32([1, 256]), u8([64, 8, 16]), f32([64, 8])], { K: 256, N: 64, bits: 4, block_size: 128 }, MS);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /expected \[64,2,64\]/);
});

test("MatMulNBits FLOPs are 2*M*K*N", () => {
  const r = infer({
    inputs: { a: f32([3, 256]), b: u8([64, 8, 16]), s: f32([64, 8]) },
    nodes: [{ op: "MatMulNBits", domain: "com.microsoft", inputs: ["a", "b", "s"], outputs: ["y"], attrs: { K: 256, N: 64, bits: 4, block_size: 32 } }],
    outputs: ["y"],
  });
  assert.equal(r.nodes[0]?.flops, 2 * 3 * 256 * 64);
});

// Attention: output (B, S, v_hidden); present (2, B, num_heads, past + S, head_size).
test("Attention with past: present is (2, B, heads, past + S, head_size)", () => {
  const r = inferOp(
    "Attention",
    [f32(["b", "s", 768]), f32([768, 2304]), f32([2304]), null, f32([2, "b", 12, "p", 64])],
    { num_heads: 12, unidirectional: 1 },
    { ...MS, outputs: 2 },
  );
  assert.deepEqual(r.shapes, ["[b,s,768]", "[2,b,12,p + s,64]"]);
});

test("Attention with qkv_hidden_sizes of a different V width", () => {
  const r = inferOp("Attention", [f32([2, 5, 64]), f32([64, 64 + 64 + 32])], { num_heads: 4, qkv_hidden_sizes: [64, 64, 32] }, MS);
  assert.deepEqual(r.shapes, ["[2,5,32]"]);
});

// MultiHeadAttention: output (B, S, v_hidden); present_key (B, N, past + L, H).
test("MultiHeadAttention cross attention with past key/value", () => {
  const r = inferOp(
    "MultiHeadAttention",
    [f32(["b", "s", 512]), f32(["b", "l", 512]), f32(["b", "l", 512]), null, null, null, f32(["b", 8, "p", 64]), f32(["b", 8, "p", 64])],
    { num_heads: 8 },
    { ...MS, outputs: 3 },
  );
  assert.deepEqual(r.shapes, ["[b,s,512]", "[b,8,l + p,64]", "[b,8,l + p,64]"]);
});

test("MultiHeadAttention packed QKV (B, S, N, 3, H)", () => {
  assert.deepEqual(inferOp("MultiHeadAttention", [f16([1, 9, 12, 3, 64])], { num_heads: 12 }, MS).shapes, ["[1,9,768]"]);
});

// SkipLayerNormalization: output and input_skip_bias_sum like input; mean, inv_std_var float.
test("SkipLayerNormalization and SkipSimplifiedLayerNormalization outputs", () => {
  const x = f16(["b", "s", 768]);
  for (const op of ["SkipLayerNormalization", "SkipSimplifiedLayerNormalization"]) {
    const r = inferOp(op, [x, x, f16([768])], {}, { ...MS, outputs: 4 });
    assert.deepEqual(r.shapes, ["[b,s,768]", "[b,s,1]", "[b,s,1]", "[b,s,768]"], op);
    assert.deepEqual(r.out.map((o) => o?.dtype), ["float16", "float32", "float32", "float16"], op);
  }
});

test("SimplifiedLayerNormalization is known in both the ai.onnx and com.microsoft domains", () => {
  for (const domain of ["", "com.microsoft"]) {
    const r = inferOp("SimplifiedLayerNormalization", [f16([2, 7, 64]), f16([64])], { axis: -1 }, { domain, outputs: 2 });
    assert.deepEqual(r.shapes, ["[2,7,64]", "[2,7,1]"], domain);
  }
});

test("RotaryEmbedding, FastGelu, BiasGelu, QuickGelu, BiasAdd keep the input's shape", () => {
  assert.deepEqual(inferOp("RotaryEmbedding", [f16([1, 32, "s", 128]), { dtype: "int64", shape: [1, "s"] }, f16([4096, 64]), f16([4096, 64])], {}, MS).shapes, ["[1,32,s,128]"]);
  assert.deepEqual(inferOp("FastGelu", [f16(["b", 3072]), f16([3072])], {}, MS).shapes, ["[b,3072]"]);
  assert.deepEqual(inferOp("BiasGelu", [f32([2, 5, 8]), f32([8])], {}, MS).shapes, ["[2,5,8]"]);
  assert.deepEqual(inferOp("QuickGelu", [f32([3])], { alpha: { f: 1.702 } }, MS).shapes, ["[3]"]);
  assert.deepEqual(inferOp("BiasAdd", [f32([2, 16, 320]), f32([320]), f32([2, 16, 320])], {}, MS).shapes, ["[2,16,320]"]);
});

test("FusedConv is a Conv; FusedMatMul honours transA/transB and transBatchA", () => {
  assert.deepEqual(inferOp("FusedConv", [f32([1, 3, 32, 32]), f32([16, 3, 3, 3])], { pads: [1, 1, 1, 1], activation: "Relu" }, MS).shapes, ["[1,16,32,32]"]);
  assert.deepEqual(inferOp("FusedMatMul", [f32([2, 4, 3]), f32([2, 5, 4])], { transA: 1, transB: 1 }, MS).shapes, ["[2,3,5]"]);
  // transBatchA: [d0=4, d1=2, d2=3] -> [2, 4, 3].
  assert.deepEqual(inferOp("FusedMatMul", [f32([4, 2, 3]), f32([2, 3, 6])], { transBatchA: 1 }, MS).shapes, ["[2,4,6]"]);
});

test("EmbedLayerNormalization: output (B, S, hidden), mask_index (B) int32", () => {
  const r = inferOp(
    "EmbedLayerNormalization",
    [i32(["b", "s"]), i32(["b", "s"]), f32([30522, 768]), f32([512, 768]), f32([2, 768]), f32([768]), f32([768]), i32(["b", "s"])],
    {},
    { ...MS, outputs: 2 },
  );
  assert.deepEqual(r.shapes, ["[b,s,768]", "[b]"]);
  assert.equal(r.out[1]?.dtype, "int32");
});

// GatherBlockQuantized: output rank q + r - 1 in the scales' type; uint8 data packs 8/bits values per byte.
test("GatherBlockQuantized unpacks 4-bit uint8 rows of an embedding table", () => {
  const r = inferOp(
    "GatherBlockQuantized",
    [u8([32064, 1536]), { dtype: "int64", shape: ["b", "s"] }, f16([32064, 96])],
    { bits: 4, block_size: 32, gather_axis: 0, quantize_axis: 1 },
    MS,
  );
  assert.deepEqual([r.shapes[0], r.out[0]?.dtype], ["[b,s,3072]", "float16"]);
});

test("GroupQueryAttention with sliding_window_cache keeps the window's capacity", () => {
  const r = inferOp(
    "GroupQueryAttention",
    [f16([1, 1, 512]), f16([1, 1, 128]), f16([1, 1, 128]), f16([1, 2, 1024, 64]), f16([1, 2, 1024, 64]), i32([1]), constTensor("t", "int32", [], [5000])],
    { num_heads: 8, kv_num_heads: 2, local_window_size: 1024, sliding_window_cache: 1 },
    { ...MS, outputs: 2 },
  );
  assert.deepEqual(r.shapes, ["[1,1,512]", "[1,2,1024,64]"]);
});
