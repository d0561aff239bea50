/**
 * Shape rules: onnxruntime contrib ops (domain com.microsoft), as specified in onnxruntime's
 * docs/ContribOperators.md: the fused attention ops with their KV-cache outputs, the fused layer norms,
 * GELU variants, fused conv/matmul and MatMulNBits with its packed weights. SimplifiedLayerNormalization
 * is also registered in the ai.onnx domain, where onnxruntime's optimizer writes it.
 */
import type { DType } from "../../graph/dtype.js";
import { add, ceilDiv, equal, floorDiv, max, mul, product, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, broadcast, macFlops, numel } from "../util.js";
import { matmulShape } from "./matmul.js";
import { convFlops, convShape } from "./quant.js";

const MS = "com.microsoft";

function rank(ctx: InferContext, i: number, ...allowed: number[]): Dim[] {
  const s = ctx.shape(i);
  if (!allowed.includes(s.length)) ctx.error(`input ${i} must have rank ${allowed.join(" or ")}, got ${s.length}`);
  return s;
}

/** Exact division of a dim by a head count; a ShapeError when a known dim does not divide. */
function perHead(ctx: InferContext, d: Dim, heads: number, what: string): Dim {
  if (typeof d === "number" && d % heads !== 0) ctx.error(`${what} ${d} is not divisible by ${heads} heads`);
  return floorDiv(d, heads);
}

function requiredInt(ctx: InferContext, name: string): number {
  const v = ctx.int(name);
  if (v === undefined || v <= 0) ctx.error(`attribute '${name}' is required and positive`);
  return v;
}

/** The value of a scalar input (total_sequence_length), number or symbol, when known. */
function scalarValue(ctx: InferContext, i: number): Dim | undefined {
  if (!ctx.has(i)) return undefined;
  const v = ctx.value(i);
  return v?.length === 1 ? v[0] : undefined;
}

/** QK^T and (softmax)V over heads: 2 matmuls of b*heads*s*t*headSize multiply-adds each. */
function attentionFlops(b: Dim, heads: Dim, s: Dim, t: Dim, qkHead: Dim, vHead: Dim): Dim {
  return add(macFlops(b, heads, s, t, qkHead), macFlops(b, heads, s, t, vHead));
}

// ------------------------------------------------------------------------------------------- Attention

interface AttentionDims {
  b: Dim;
  s: Dim;
  inHidden: Dim;
  qHidden: Dim;
  vHidden: Dim;
  heads: number;
  total: Dim;
  present: Dim[] | undefined;
}

/** Attention(input, weights, bias?, mask_index?, past?, attention_bias?, past_sequence_length?). */
function attentionDims(ctx: InferContext): AttentionDims {
  const [b, s, inHidden] = rank(ctx, 0, 3) as [Dim, Dim, Dim];
  const w = rank(ctx, 1, 2);
  const heads = requiredInt(ctx, "num_heads");
  const sizes = ctx.ints("qkv_hidden_sizes");
  let qHidden: Dim;
  let vHidden: Dim;
  if (sizes) {
    if (sizes.length !== 3) ctx.error(`qkv_hidden_sizes must have 3 values, got ${sizes.length}`);
    [qHidden, vHidden] = [sizes[0]!, sizes[2]!];
  } else {
    const third = w[1]!;
    if (typeof third === "number" && third % 3 !== 0) ctx.error(`weights' second dim ${third} is not 3*hidden`);
    qHidden = vHidden = floorDiv(third, 3);
  }
  const headSize = perHead(ctx, qHidden, heads, "hidden size");
  let total: Dim = s;
  let present: Dim[] | undefined = [2, b, heads, s, headSize];
  if (ctx.has(4)) {
    const past = rank(ctx, 4, 5);
    if (ctx.int("past_present_share_buffer", 0)) {
      // One buffer of max_sequence_length serves as past and present.
      present = past.slice();
      total = scalarValue(ctx, 6) !== undefined ? add(scalarValue(ctx, 6)!, s) : past[3]!;
    } else {
      total = add(past[3]!, s);
      present = [2, b, heads, total, headSize];
    }
  }
  return { b, s, inHidden, qHidden, vHidden, heads, total, present };
}

const attention: OpRule = {
  domain: MS,
  infer(ctx) {
    const d = attentionDims(ctx);
    const dtype = ctx.dtype(0);
    return [{ dtype, shape: [d.b, d.s, d.vHidden] }, { dtype, shape: d.present }];
  },
  flops(ctx) {
    const d = attentionDims(ctx);
    const projection = macFlops(d.b, d.s, d.inHidden, add(mul(2, d.qHidden), d.vHidden));
    const qkHead = floorDiv(d.qHidden, d.heads);
    return add(projection, attentionFlops(d.b, d.heads, d.s, d.total, qkHead, floorDiv(d.vHidden, d.heads)));
  },
};

/**
 * MultiHeadAttention(query, key?, value?, bias?, key_padding_mask?, attention_bias?, past_key?, past_value?,
 * past_sequence_length?, cache_indirection?). Query is (B, S, D) or packed QKV (B, S, N, 3, H); key is
 * (B, L, D), packed KV (B, L, N, 2, H) or already projected (B, N, L, H); value likewise.
 */
interface MhaDims {
  b: Dim;
  s: Dim;
  heads: number;
  headSize: Dim;
  vHeadSize: Dim;
  kvLen: Dim;
  total: Dim;
  present: Dim[];
  presentV: Dim[];
}

function mhaDims(ctx: InferContext): MhaDims {
  const q = rank(ctx, 0, 3, 5);
  const heads = requiredInt(ctx, "num_heads");
  const [b, s] = [q[0]!, q[1]!];
  let headSize: Dim;
  let vHeadSize: Dim;
  let kvLen: Dim = s;
  let kvProjected = false;
  if (q.length === 5) {
    headSize = vHeadSize = q[4]!;
  } else {
    headSize = perHead(ctx, q[2]!, heads, "query hidden size");
    vHeadSize = headSize;
    if (ctx.has(1)) {
      const k = rank(ctx, 1, 3, 4, 5);
      if (k.length === 3) kvLen = k[1]!;
      else if (k.length === 5) [kvLen, vHeadSize] = [k[1]!, k[4]!];
      else [kvLen, kvProjected] = [k[2]!, true];
    }
    if (ctx.has(2)) {
      const v = rank(ctx, 2, 3, 4);
      vHeadSize = v.length === 3 ? perHead(ctx, v[2]!, heads, "value hidden size") : v[3]!;
    }
  }
  let total: Dim = kvLen;
  let present: Dim[] = [b, heads, kvLen, headSize];
  let presentV: Dim[] = [b, heads, kvLen, vHeadSize];
  if (ctx.has(6) && !kvProjected) {
    const past = rank(ctx, 6, 4);
    if (ctx.has(8)) {
      // Buffer sharing: present is the past buffer (max_sequence_length long).
      present = past.slice();
      presentV = ctx.has(7) ? ctx.shape(7).slice() : past.slice();
      const pastLen = scalarValue(ctx, 8);
      total = pastLen !== undefined ? add(pastLen, kvLen) : past[2]!;
    } else {
      total = add(past[2]!, kvLen);
      present = [b, heads, total, headSize];
      presentV = [b, heads, total, vHeadSize];
    }
  }
  return { b, s, heads, headSize, vHeadSize, kvLen, total, present, presentV };
}

const multiHeadAttention: OpRule = {
  domain: MS,
  infer(ctx) {
    const d = mhaDims(ctx);
    const dtype = ctx.dtype(0);
    const outs: TensorInfo[] = [
      { dtype, shape: [d.b, d.s, mul(d.heads, d.vHeadSize)] },
      { dtype, shape: d.present },
      { dtype, shape: d.presentV },
      { dtype, shape: [d.b, d.heads, d.s, d.total] },
    ];
    return outs.slice(0, Math.max(1, ctx.outputCount));
  },
  flops(ctx) {
    const d = mhaDims(ctx);
    return attentionFlops(d.b, d.heads, d.s, d.total, d.headSize, d.vHeadSize);
  },
};

/**
 * GroupQueryAttention(query, key?, value?, past_key?, past_value?, seqlens_k, total_sequence_length,
 * cos_cache?, sin_cache?, ...). Query is (B, S, N*H) or packed QKV (B, S, (N + 2*KvN)*H); the KV cache is
 * BNSH with KvN heads. The kernel makes present max(past buffer, total_sequence_length) long, so when
 * total_sequence_length's value is known that is the answer. When it is not, present is taken as past +
 * kv_sequence_length: exact without buffer sharing, an upper bound with a shared max-length buffer
 * (onnxruntime's own shape inference then keeps the past's length, which undercounts the unshared case).
 */
interface GqaDims {
  b: Dim;
  s: Dim;
  heads: number;
  kvHeads: number;
  headSize: Dim;
  cacheHead: Dim;
  total: Dim;
  present: Dim;
}

function gqaDims(ctx: InferContext): GqaDims {
  const q = rank(ctx, 0, 3);
  const heads = requiredInt(ctx, "num_heads");
  const kvHeads = requiredInt(ctx, "kv_num_heads");
  if (heads % kvHeads !== 0) ctx.error(`num_heads ${heads} is not a multiple of kv_num_heads ${kvHeads}`);
  const [b, s] = [q[0]!, q[1]!];
  const packed = !ctx.has(1);
  const headSize = perHead(ctx, q[2]!, packed ? heads + 2 * kvHeads : heads, packed ? "packed QKV width" : "query hidden size");
  let kvLen: Dim = s;
  if (!packed) {
    const k = rank(ctx, 1, 3);
    kvLen = k[1]!;
    const kvHidden = k[2]!;
    if (typeof kvHidden === "number" && typeof headSize === "number" && kvHidden !== kvHeads * headSize) {
      ctx.error(`key hidden size ${kvHidden} is not kv_num_heads*head_size = ${kvHeads * headSize}`);
    }
  }
  const totalValue = scalarValue(ctx, 6);
  let present: Dim;
  // A quantized cache (kv_cache_bit_width 4) packs two values a byte: the past's last dim is the truth.
  let cacheHead: Dim = headSize;
  if (ctx.has(3)) {
    const past = rank(ctx, 3, 4);
    cacheHead = past[3]!;
    if (ctx.int("sliding_window_cache", 0)) present = past[2]!; // a window-sized buffer of fixed capacity
    else if (totalValue !== undefined) present = max(past[2]!, totalValue);
    else {
      present = add(past[2]!, kvLen);
      ctx.warn("total_sequence_length unknown: present KV taken as past + new tokens (a shared max-length buffer would keep the past's length)");
    }
  } else {
    present = totalValue ?? kvLen;
  }
  return { b, s, heads, kvHeads, headSize, cacheHead, total: totalValue ?? present, present };
}

const groupQueryAttention: OpRule = {
  domain: MS,
  infer(ctx) {
    const d = gqaDims(ctx);
    const dtype = ctx.dtype(0);
    // A quantized cache keeps its own type.
    const cache: DType | undefined = ctx.has(3) ? (ctx.input(3).dtype ?? dtype) : dtype;
    const kv: TensorInfo = { dtype: cache, shape: [d.b, d.kvHeads, d.present, d.cacheHead] };
    const outs: TensorInfo[] = [
      { dtype, shape: [d.b, d.s, mul(d.heads, d.headSize)] },
      kv,
      { ...kv, shape: kv.shape!.slice() },
      { dtype, shape: [d.b, d.heads, d.s, d.total] },
    ];
    return outs.slice(0, Math.max(1, ctx.outputCount));
  },
  flops(ctx) {
    const d = gqaDims(ctx);
    return attentionFlops(d.b, d.heads, d.s, d.total, d.headSize, d.headSize);
  },
};

// ---------------------------------------------------------------------------------------- Layer norms

/** Statistics outputs (mean, inv_std_var): x's shape with the normalised dims set to 1. */
function statShape(x: readonly Dim[], from: number): Dim[] {
  return x.map((d, k) => (k < from ? d : 1));
}

/** LayerNormalization (com.microsoft, as ai.onnx's): Y, Mean, InvStdDev; `simplified` has no mean. */
function layerNorm(simplified: boolean, domain: string): OpRule {
  return {
    domain,
    infer(ctx) {
      const x = ctx.shape(0);
      const a = axis(ctx, ctx.int("axis", -1), x.length);
      const stash: DType = ctx.int("stash_type", 1) === 1 ? "float32" : ctx.dtype(0);
      const stat = (): TensorInfo => ({ dtype: stash, shape: statShape(x, a) });
      const outs: TensorInfo[] = [{ dtype: ctx.dtype(0), shape: x.slice() }];
      if (!simplified) outs.push(stat());
      outs.push(stat());
      return outs;
    },
    flops: (ctx) => mul(simplified ? 4 : 7, numel(ctx.shape(0))),
  };
}

/** Skip(Simplified)LayerNormalization: output, mean, inv_std_var (float, last dim 1), input+skip+bias. */
const skipLayerNorm: OpRule = {
  domain: MS,
  infer(ctx) {
    const x = rank(ctx, 0, 2, 3);
    const skip = ctx.shape(1);
    if (skip.length > x.length) ctx.error(`skip has rank ${skip.length} above the input's ${x.length}`);
    const dtype = ctx.dtype(0);
    const stat: TensorInfo = { dtype: "float32", shape: statShape(x, x.length - 1) };
    return [{ dtype, shape: x.slice() }, stat, { ...stat }, { dtype, shape: x.slice() }];
  },
  flops: (ctx) => mul(9, numel(ctx.shape(0))),
};

// ---------------------------------------------------------------------------------- Elementwise fusions

/** Same shape and type as input 0, `perElement` flops per element. */
function likeInput(perElement: number): OpRule {
  return { domain: MS, infer: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0).slice() }], flops: (ctx) => mul(perElement, numel(ctx.shape(0))) };
}

/** BiasGelu(A, B): A + B broadcast, then GELU. */
const biasGelu: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: broadcast(ctx, [ctx.shape(0), ctx.shape(1)]) }],
  flops: (_ctx, outs) => (outs[0]?.shape ? mul(9, numel(outs[0].shape)) : 0),
};

/** RotaryEmbedding(input, position_ids, cos_cache, sin_cache): input (B, S, D) or (B, N, S, H), same out. */
const rotaryEmbedding: OpRule = {
  domain: MS,
  infer(ctx) {
    const x = rank(ctx, 0, 3, 4);
    return [{ dtype: ctx.dtype(0), shape: x.slice() }];
  },
  flops: (ctx) => mul(3, numel(ctx.shape(0))),
};

// ----------------------------------------------------------------------------------- Conv and matmul

/** FusedConv(X, W, B?, Z?): Conv followed by an activation (and an optional residual add). */
const fusedConv: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: convShape(ctx, ctx.shape(0), ctx.shape(1)) }],
  flops: (ctx, outs) => (outs[0]?.shape ? add(convFlops(outs[0].shape, ctx.shape(1)), numel(outs[0].shape)) : 0),
};

/**
 * FusedMatMul(A, B): transBatchA moves A's first dim behind its batch dims ([d0, d1..dn-2, dn-1] ->
 * [d1..dn-2, d0, dn-1]) before transA swaps the last two; likewise for B.
 */
function fusedOperand(ctx: InferContext, i: number, transBatch: string, trans: string): Dim[] {
  let s = ctx.shape(i).slice();
  if (ctx.int(transBatch, 0) && s.length >= 3) s = [...s.slice(1, -1), s[0]!, s[s.length - 1]!];
  if (ctx.int(trans, 0) && s.length >= 2) s = [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];
  return s;
}

function fusedMatMulShape(ctx: InferContext) {
  return matmulShape(ctx, fusedOperand(ctx, 0, "transBatchA", "transA"), fusedOperand(ctx, 1, "transBatchB", "transB"));
}

const fusedMatMul: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: fusedMatMulShape(ctx).shape }],
  flops(ctx) {
    const { m, n, k, batch } = fusedMatMulShape(ctx);
    return macFlops(m, n, k, product(batch));
  },
};

/** FusedGemm(A, B, C?): Gemm with transA/transB, then an activation. */
const fusedGemm: OpRule = {
  domain: MS,
  infer(ctx) {
    const a = rank(ctx, 0, 2);
    const b = rank(ctx, 1, 2);
    const [m, k] = ctx.int("transA", 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
    const [k2, n] = ctx.int("transB", 0) ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
    if (typeof k === "number" && typeof k2 === "number" && k !== k2) ctx.error(`inner dims ${k} and ${k2} differ`);
    return [{ dtype: ctx.dtype(0), shape: [m, n] }];
  },
  flops(ctx, outs) {
    const a = ctx.shape(0);
    const k = ctx.int("transA", 0) ? a[0]! : a[a.length - 1]!;
    return outs[0]?.shape ? macFlops(product(outs[0].shape), k) : 0;
  },
};

/**
 * MatMulNBits(A, B, scales, zero_points?, g_idx?, bias?): A (..., K) times an N x K weight quantized in
 * blocks along K. B is packed uint8 (N, ceil(K/block_size), block_size*bits/8); scales (N, k_blocks)
 * or flat (N*k_blocks). Output (..., N) in A's type.
 */
function matMulNBitsDims(ctx: InferContext): { k: number; n: number; bits: number; block: number; kBlocks: number } {
  const k = requiredInt(ctx, "K");
  const n = requiredInt(ctx, "N");
  const bits = ctx.int("bits", 4);
  const block = requiredInt(ctx, "block_size");
  if (block < 16 || (block & (block - 1)) !== 0) ctx.error(`block_size ${block} must be a power of 2 and >= 16`);
  if (bits < 2 || bits > 8) ctx.error(`bits ${bits} must be between 2 and 8`);
  return { k, n, bits, block, kBlocks: ceilDiv(k, block) as number };
}

const matMulNBits: OpRule = {
  domain: MS,
  infer(ctx) {
    const { k, n, bits, block, kBlocks } = matMulNBitsDims(ctx);
    const a = ctx.shape(0);
    if (a.length < 1) ctx.error("A must have rank >= 1");
    const last = a[a.length - 1]!;
    if (typeof last === "number" && last !== k) ctx.error(`A's last dim ${last} is not K = ${k}`);
    const packed = ctx.input(1).shape;
    const expected = [n, kBlocks, (block * bits) / 8];
    if (packed && !(packed.length === 3 && packed.every((d, i) => equal(d, expected[i]!)))) {
      // Some exporters flatten B to 2-D (N, k_blocks*blob_size); that is the same bytes.
      const flat = packed.length === 2 && equal(packed[0]!, n) && equal(packed[1]!, kBlocks * expected[2]!);
      if (!flat) ctx.error(`B is [${packed.map(String)}], expected [${expected}] for K=${k}, N=${n}, bits=${bits}, block_size=${block}`);
    }
    const scales = ctx.input(2).shape;
    if (scales && typeof numel(scales) === "number" && numel(scales) !== n * kBlocks) {
      ctx.error(`scales hold ${String(numel(scales))} values, expected N*k_blocks = ${n * kBlocks}`);
    }
    return [{ dtype: ctx.dtype(0), shape: [...a.slice(0, -1), n] }];
  },
  flops(ctx) {
    const { k, n } = matMulNBitsDims(ctx);
    return macFlops(product(ctx.shape(0).slice(0, -1)), k, n);
  },
};

/**
 * EmbedLayerNormalization(input_ids, segment_ids?, word_embedding, position_embedding, segment_embedding?,
 * gamma, beta, mask?, position_ids?): output (B, S, hidden), mask_index (B) int32, embedding_sum (B, S, hidden).
 */
const embedLayerNorm: OpRule = {
  domain: MS,
  infer(ctx) {
    const [b, s] = rank(ctx, 0, 2) as [Dim, Dim];
    const word = rank(ctx, 2, 2);
    const dtype = ctx.dtype(2);
    const hidden = word[1]!;
    return [
      { dtype, shape: [b, s, hidden] },
      { dtype: "int32", shape: [b] },
      { dtype, shape: [b, s, hidden] },
    ];
  },
  flops: (ctx) => mul(10, product([...ctx.shape(0), ctx.shape(2)[1]!])),
};

/**
 * GatherBlockQuantized(data, indices, scales, zero_points?): Gather on a block-quantized table, output
 * data[:axis] + indices + data[axis+1:] in the scales' type; uint8 data with bits < 8 packs 8/bits values
 * a byte along the last dim, which the output unpacks.
 */
const gatherBlockQuantized: OpRule = {
  domain: MS,
  infer(ctx) {
    const data = ctx.shape(0);
    const indices = ctx.shape(1);
    if (data.length < 1) ctx.error("data must have rank >= 1");
    const g = axis(ctx, ctx.int("gather_axis", 0), data.length);
    const unpacked = data.slice();
    const bits = ctx.int("bits", 4);
    if (ctx.dtype(0) === "uint8" && bits < 8) {
      if (8 % bits !== 0) ctx.error(`bits ${bits} must divide 8`);
      unpacked[unpacked.length - 1] = mul(unpacked[unpacked.length - 1]!, 8 / bits);
    }
    const shape = [...unpacked.slice(0, g), ...indices, ...unpacked.slice(g + 1)];
    return [{ dtype: ctx.dtype(2), shape }];
  },
  flops: (_ctx, outs) => (outs[0]?.shape ? mul(2, numel(outs[0].shape)) : 0),
};

/** GemmFastGelu(X, W, bias?): MatMul then FastGelu. */
const gemmFastGelu: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: matmulShape(ctx, ctx.shape(0), ctx.shape(1)).shape }],
  flops(ctx) {
    const { m, n, k, batch } = matmulShape(ctx, ctx.shape(0), ctx.shape(1));
    return add(macFlops(m, n, k, product(batch)), mul(8, product([...batch, m, n])));
  },
};

/** GroupNorm / SkipGroupNorm: Y like X (and SkipGroupNorm's optional sum S). */
const groupNorm: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0).slice() }, { dtype: ctx.dtype(0), shape: ctx.shape(0).slice() }].slice(0, Math.max(1, ctx.outputCount)),
  flops: (ctx) => mul(8, numel(ctx.shape(0))),
};

export const rules: OpFamily = {
  GatherBlockQuantized: gatherBlockQuantized,
  GemmFastGelu: gemmFastGelu,
  GroupNorm: groupNorm,
  SkipGroupNorm: groupNorm,
  Attention: attention,
  MultiHeadAttention: multiHeadAttention,
  GroupQueryAttention: groupQueryAttention,
  SkipLayerNormalization: skipLayerNorm,
  SkipSimplifiedLayerNormalization: skipLayerNorm,
  SimplifiedLayerNormalization: [layerNorm(true, ""), layerNorm(true, MS)],
  LayerNormalization: layerNorm(false, MS),
  RotaryEmbedding: rotaryEmbedding,
  FastGelu: likeInput(8),
  Gelu: likeInput(8),
  QuickGelu: likeInput(4),
  BiasGelu: biasGelu,
  BiasAdd: likeInput(2),
  FusedConv: fusedConv,
  FusedMatMul: fusedMatMul,
  FusedGemm: fusedGemm,
  MatMulNBits: matMulNBits,
  EmbedLayerNormalization: embedLayerNorm,
};
