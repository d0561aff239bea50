/**
 * The worst-case graph llama.cpp reserves its compute buffer for (llama-context.cpp sched_reserve: one ubatch
 * of n_ubatch tokens, every token an output, attention over every cell of the cache), as tensor sizes for
 * src/memory/llamacpp/gallocr.ts. The ops follow llama.cpp's graph builders: llama-graph.cpp build_inp_embd,
 * build_norm, build_qkv, build_attn / build_attn_mha (K·Q, soft-max with the mask, V·KQ; or one
 * FLASH_ATTN_EXT), build_ffn (SwiGLU), build_moe_ffn (router, top-k, MUL_MAT_ID experts), and the per-model
 * files src/models/{llama,qwen2,qwen3,qwen3moe,gemma2,gemma3,phi3}.cpp. Node order is ggml_visit_parents':
 * each node after its sources, in source order, from the tensors the builder expands.
 */
import type { GraphTensor } from "./gallocr.js";
import { kvWidths, type LlamaHparams } from "./hparams.js";
import { elementCount } from "../../graph/element-count.js";

class Graph {
  readonly tensors: GraphTensor[] = [];
  readonly order: number[] = [];
  readonly leafs: number[] = [];
  private readonly seen = new Set<number>();
  private add(t: GraphTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }
  input(ne: number[], bytesPer = 4): number {
    return this.add({ bytes: elementCount(ne) * bytesPer, srcs: [], leaf: "input", layout: `${bytesPer}:${ne.join("x")}` });
  }
  external(name: string): number {
    return this.add({ bytes: 0, srcs: [], leaf: "external", layout: name });
  }
  op(ne: number[], srcs: number[], opts: { inplace?: boolean; bytesPer?: number } = {}): number {
    const bytesPer = opts.bytesPer ?? 4;
    const t: GraphTensor = { bytes: elementCount(ne) * bytesPer, srcs, layout: `${bytesPer}:${ne.join("x")}` };
    if (opts.inplace) t.inplace = true;
    return this.add(t);
  }
  view(src: number, ne: number[], atZero = true, extra: number[] = []): number {
    return this.add({ bytes: 0, srcs: [src, ...extra], viewOf: src, viewAtZero: atZero, layout: `v:${ne.join("x")}` });
  }
  output(id: number): void {
    this.tensors[id]!.output = true;
  }
  /** ggml_build_forward_expand: sources first, depth first, in source order. */
  expand(id: number): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const t = this.tensors[id]!;
    for (const s of t.srcs) this.expand(s);
    if (t.leaf) this.leafs.push(id);
    else this.order.push(id);
  }
}

export interface ReserveShape {
  /** Tokens in the ubatch, and outputs among them (all of them in the worst case). */
  tokens: number;
  outputs: number;
  /** Streams the tokens are split over (n_seq_max without --kv-unified). */
  streams: number;
  /** Cells attended per stream: the global cache, and the windowed one. */
  kvBase: number;
  kvSwa: number;
  flashAttention: boolean;
  /** K/V cache quantized with a head width that is a multiple of 64: Hadamard rotations around attention. */
  rotateK: boolean;
  rotateV: boolean;
}

/** One layer's attention: Q/K/V projections, rope, cache writes, attention, output projection. */
function attention(g: Graph, h: LlamaHparams, il: number, x: number, s: ReserveShape, inp: Inputs): number {
  const T = s.tokens;
  const nH = h.nHead[il] ?? 0;
  const nKv = h.nHeadKv[il] ?? 0;
  const w = kvWidths(h, il);
  const qDim = nH * h.headDimK;
  const fused = h.arch === "phi3";
  let q: number;
  let k: number;
  let v: number;
  if (fused) {
    const qkv = g.op([qDim + w.k + w.v, T], [g.external(`wqkv${il}`), x]);
    q = g.view(qkv, [h.headDimK, nH, T]);
    k = g.view(qkv, [h.headDimK, nKv, T], false);
    v = g.view(qkv, [h.headDimV, nKv, T], false);
  } else {
    const proj = (dim: number, name: string, heads: number, hd: number) => {
      let t = g.op([dim, T], [g.external(`${name}${il}`), x]);
      if (h.arch === "qwen2") t = g.op([dim, T], [t, g.external(`${name}_b${il}`)], { inplace: true });
      return g.view(t, [hd, heads, T]);
    };
    q = proj(qDim, "wq", nH, h.headDimK);
    k = proj(w.k, "wk", nKv, h.headDimK);
    v = proj(w.v, "wv", nKv, h.headDimV);
  }
  if (h.arch === "qwen3" || h.arch === "qwen3moe" || h.arch === "gemma3") {
    q = g.op([h.headDimK, nH, T], [g.op([h.headDimK, nH, T], [q], { inplace: true }), g.external(`qn${il}`)], { inplace: true });
    k = g.op([h.headDimK, nKv, T], [g.op([h.headDimK, nKv, T], [k], { inplace: true }), g.external(`kn${il}`)], { inplace: true });
  }
  q = g.op([h.headDimK, nH, T], [q, inp.pos], { inplace: true });
  k = g.op([h.headDimK, nKv, T], [k, inp.pos], { inplace: true });
  // llama_mul_mat_hadamard: a non-contiguous input is made contiguous first.
  if (s.rotateK) {
    q = g.op([h.headDimK, nH, T], [inp.rotK, q]);
    k = g.op([h.headDimK, nKv, T], [inp.rotK, k]);
  }
  if (s.rotateV) v = g.op([h.headDimV, nKv, T], [inp.rotV, fused ? g.op([w.v, T], [v]) : v]);
  g.expand(q);
  g.expand(v);
  g.expand(k);
  const swa = h.isSwa[il] === true && s.kvSwa > 0;
  const nKvCells = swa ? s.kvSwa : s.kvBase;
  const mask = swa ? inp.maskSwa : inp.mask;
  const cacheK = g.external(`cache_k${il}`);
  const cacheV = g.external(`cache_v${il}`);
  g.expand(g.view(cacheK, [w.k, T], true, [k, swa ? inp.kIdxsSwa : inp.kIdxs]));
  // cpy_v without flash attention stores V transposed, from a contiguous copy when V is a view of fused QKV.
  const vRows = !s.flashAttention && fused && !s.rotateV ? g.op([w.v, T], [v]) : v;
  g.expand(g.view(cacheV, [w.v, T], true, [vRows, swa ? inp.vIdxsSwa : inp.vIdxs]));
  const Tq = Math.ceil(T / s.streams);
  const qp = g.view(q, [h.headDimK, Tq, nH, s.streams]);
  const kv = g.view(cacheK, [h.headDimK, nKvCells, nKv, s.streams]);
  const vv = g.view(cacheV, [nKvCells, h.headDimV, nKv, s.streams]);
  let cur: number;
  if (s.flashAttention) {
    const fa = g.op([h.headDimV, nH, Tq, s.streams], [qp, kv, vv, mask]);
    cur = g.view(fa, [h.headDimV * nH, T]);
  } else {
    let kq = g.op([nKvCells, Tq, nH, s.streams], [kv, qp]);
    if (h.attnSoftcap) for (let i = 0; i < 3; i++) kq = g.op([nKvCells, Tq, nH, s.streams], [kq], { inplace: true });
    kq = g.op([nKvCells, Tq, nH, s.streams], [kq, mask], { inplace: true });
    const kqv = g.op([h.headDimV, Tq, nH, s.streams], [vv, kq]);
    cur = g.op([h.headDimV * nH, T], [g.view(kqv, [h.headDimV, nH, Tq, s.streams])]);
  }
  g.expand(cur);
  if (s.rotateV) cur = g.op([h.headDimV * nH, T], [inp.rotV, cur]);
  return g.op([h.nEmbd, T], [g.external(`wo${il}`), cur]);
}

/** SwiGLU feed-forward (phi3: one fused gate+up matrix split in two views). */
function feedForward(g: Graph, h: LlamaHparams, il: number, x: number, T: number): number {
  if (h.nExpert > 0) return moe(g, h, il, x, T);
  const ff = h.nFf;
  if (h.arch === "phi3") {
    const up = g.op([2 * ff, T], [g.external(`wup${il}`), x]);
    const act = g.op([ff, T], [up]);
    return g.op([h.nEmbd, T], [g.external(`wdown${il}`), act]);
  }
  const up = g.op([ff, T], [g.external(`wup${il}`), x]);
  const gate = g.op([ff, T], [g.external(`wgate${il}`), x]);
  // Gemma: GELU-gated (geglu), the rest SiLU-gated: the same sizes.
  const act = g.op([ff, T], [gate, up]);
  return g.op([h.nEmbd, T], [g.external(`wdown${il}`), act]);
}

/** build_moe_ffn: softmax router, top-k experts, MUL_MAT_ID up/gate/down, weighted sum of the k outputs. */
function moe(g: Graph, h: LlamaHparams, il: number, x: number, T: number): number {
  const E = h.nExpert;
  const k = h.nExpertUsed;
  const ff = h.nFfExpert;
  const logits = g.op([E, T], [g.external(`wrouter${il}`), x]);
  const probs = g.op([E, T], [logits], { inplace: true });
  const sorted = g.op([E, T], [probs]);
  const selected = g.view(sorted, [k, T]);
  let weights = g.op([1, k, T], [g.view(probs, [1, E, T]), selected]);
  // qwen3moe and mixtral renormalize the k weights: sum_rows, clamp, div.
  const sum = g.op([1, T], [g.view(weights, [k, T])]);
  weights = g.op([k, T], [g.view(weights, [k, T]), g.op([1, T], [sum], { inplace: true })], { inplace: true });
  weights = g.view(weights, [1, k, T]);
  const xin = g.view(x, [h.nEmbd, 1, T]);
  const up = g.op([ff, k, T], [g.external(`wupx${il}`), xin, selected]);
  const gate = g.op([ff, k, T], [g.external(`wgatex${il}`), xin, selected]);
  const act = g.op([ff, k, T], [gate, up]);
  let experts = g.op([h.nEmbd, k, T], [g.external(`wdownx${il}`), act, selected]);
  experts = g.op([h.nEmbd, k, T], [experts, weights], { inplace: true });
  let out = g.op([h.nEmbd, T], [g.view(experts, [h.nEmbd, T]), g.view(experts, [h.nEmbd, T], false)]);
  for (let i = 2; i < k; i++) out = g.op([h.nEmbd, T], [out, g.view(experts, [h.nEmbd, T], false)], { inplace: true });
  return out;
}

interface Inputs {
  pos: number;
  mask: number;
  maskSwa: number;
  kIdxs: number;
  vIdxs: number;
  kIdxsSwa: number;
  vIdxsSwa: number;
  outIds: number;
  rotK: number;
  rotV: number;
}

function rotKSize(headDim: number): number {
  let n = 64;
  while (headDim % (n * 2) === 0) n *= 2;
  return n;
}

const norm = (g: Graph, x: number, ne: number[], w: string) => g.op(ne, [g.op(ne, [x], { inplace: true }), g.external(w)], { inplace: true });

/** The graph of one ubatch, and its tensors for the allocator. */
export function buildGraph(h: LlamaHparams, s: ReserveShape): Graph {
  const g = new Graph();
  const T = s.tokens;
  const E = h.nEmbd;
  const maskBytes = s.flashAttention ? 2 : 4;
  // Without flash attention V is stored transposed: one index per element (build_input_v_idxs).
  const vMax = Math.max(...Array.from({ length: h.nLayer }, (_, il) => kvWidths(h, il).v));
  const vIdxRows = s.flashAttention ? T : T * vMax;
  const tokens = g.input([T], 4);
  g.expand(g.input([E, T])); // inp_embd: the embeddings-input branch of ggml_build_forward_select
  let x = g.op([E, T], [g.external("tok_embd"), tokens]);
  const gemma = h.arch === "gemma2" || h.arch === "gemma3";
  if (gemma) x = g.op([E, T], [x], { inplace: true });
  const inp: Inputs = {
    pos: g.input([T], 4),
    mask: g.input([s.kvBase, Math.ceil(T / s.streams), 1, s.streams], maskBytes),
    maskSwa: s.kvSwa > 0 ? g.input([s.kvSwa, Math.ceil(T / s.streams), 1, s.streams], maskBytes) : -1,
    kIdxs: g.input([T], 8),
    vIdxs: g.input([vIdxRows], 8),
    kIdxsSwa: s.kvSwa > 0 ? g.input([T], 8) : -1,
    vIdxsSwa: s.kvSwa > 0 ? g.input([vIdxRows], 8) : -1,
    outIds: g.input([s.outputs], 4),
    // build_input_k_rot: the largest power of two (from 64) dividing the head width; V always 64.
    rotK: s.rotateK ? g.input([rotKSize(h.headDimK), rotKSize(h.headDimK)]) : -1,
    rotV: s.rotateV ? g.input([64, 64]) : -1,
  };
  if (inp.maskSwa < 0) inp.maskSwa = inp.mask;
  if (inp.kIdxsSwa < 0) inp.kIdxsSwa = inp.kIdxs;
  if (inp.vIdxsSwa < 0) inp.vIdxsSwa = inp.vIdxs;
  for (let il = 0; il < h.nLayer; il++) {
    const last = il === h.nLayer - 1;
    let residual = x;
    let cur = attention(g, h, il, norm(g, x, [E, T], `attn_norm${il}`), s, inp);
    const rows = last ? s.outputs : T;
    if (last) {
      cur = g.op([E, rows], [cur, inp.outIds]);
      residual = g.op([E, rows], [residual, inp.outIds]);
    }
    // Gemma normalizes the attention output after the last layer's row selection.
    if (gemma) cur = norm(g, cur, [E, rows], `post_attn_norm${il}`);
    const ffnIn = g.op([E, rows], [cur, residual], { inplace: true });
    let ffn = feedForward(g, h, il, norm(g, ffnIn, [E, rows], `ffn_norm${il}`), rows);
    if (gemma) ffn = norm(g, ffn, [E, rows], `post_ffw_norm${il}`);
    // phi3 adds (residual, ffn), the others (ffn, residual): in place into the first that qualifies.
    x = g.op([E, rows], h.arch === "phi3" ? [ffnIn, ffn] : [ffn, ffnIn], { inplace: true });
  }
  const resultNorm = norm(g, x, [E, s.outputs], "output_norm");
  g.output(resultNorm);
  let logits = g.op([h.nVocab, s.outputs], [g.external("output"), resultNorm]);
  if (h.finalSoftcap) for (let i = 0; i < 3; i++) logits = g.op([h.nVocab, s.outputs], [logits], { inplace: true });
  g.output(logits);
  g.expand(logits);
  return g;
}
