/**
 * What a first prompt adds to the process beyond the compute buffer's written part (compute.ts
 * promptComputeBytes): the CPU backend's work buffer and the prompt graph's metadata.
 *
 * The work buffer (ggml-cpu.c ggml_graph_plan, ggml-cpu.cpp graph_compute: one new[] of cplan.work_size, grown
 * when a graph needs more) is the largest of the nodes' scratch needs plus a cache line per thread:
 * - MUL_MAT: src1 converted to the weight type's vec_dot_type, ggml_row_size(vec_dot_type, nelements(src1))
 *   (F32 weights need none); repacked weights (repack.cpp work_size) need the same rows;
 * - MUL_MAT_ID: that plus the expert row counts and mappings (repacked experts: the rows padded to 8 bytes and one
 *   int64 mapping per expert and token, plus one per expert);
 * - FLASH_ATTN_EXT: per thread, the tiled scratch (GGML_FA_TILE_Q = GGML_FA_TILE_KV = 64 floats, common.h) or
 *   the decode path's partial sums, the larger;
 * - SOFT_MAX, ROPE: one row of floats per thread.
 * The conversion writes every byte of it, so it becomes resident.
 *
 * The metadata: each graph has an llm_graph_result whose buf_compute_meta is a std::vector resized (zero-filled)
 * to ggml_tensor_overhead() * max_nodes + ggml_graph_overhead_custom(max_nodes) (llama-graph.cpp), max_nodes =
 * max(1024, 8 * n_tensors) (llama-context.cpp graph_max_nodes); the prompt's graph differs from the reserved one,
 * so it gets a new result.
 */
import { GGML_TYPES, type GgufTensor } from "../../formats/gguf.js";
import type { LlamaHparams } from "./hparams.js";
import type { ContextSizes } from "./kv-cache.js";
import { KV_CACHE_TYPES, type LlamaCppSettings } from "./settings.js";

const CACHE_LINE = 64;
const FA_TILE = 64;
/** sizeof(ggml_object) + sizeof(ggml_tensor) on 64-bit builds (ggml.c ggml_tensor_overhead). */
const TENSOR_OVERHEAD = 368;

/** type_traits_cpu[type].vec_dot_type (ggml-cpu.c), by ggml type name: what src1 is converted to. */
function vecDotType(name: string): { block: number; bytes: number } | undefined {
  if (name === "F32") return undefined;
  if (name === "F16" || name === "BF16") return { block: 1, bytes: 2 };
  if (name === "Q4_1" || name === "Q5_1") return { block: 32, bytes: 36 };
  const t = Object.values(GGML_TYPES).find((x) => x.name === name);
  if (!t) return undefined;
  // 32-element types dot against Q8_0, the 256-element K and IQ types against Q8_K.
  return t.block === 32 ? { block: 32, bytes: 34 } : { block: 256, bytes: 292 };
}

const rowSize = (t: { block: number; bytes: number }, n: number) => Math.ceil(n / t.block) * t.bytes;
const KV_NAMES: Record<string, string> = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0", q4_0: "Q4_0", q4_1: "Q4_1", q5_0: "Q5_0", q5_1: "Q5_1", iq4_nl: "IQ4_NL" };

const MATMUL = /^blk\.(\d+)\.(attn_(q|k|v|qkv|output)|ffn_(up|gate|down|gate_inp))\.weight$/;
const EXPERTS = /^blk\.(\d+)\.ffn_(up|gate|down)_exps\.weight$/;

/** cplan.work_size for one ubatch graph of `tokens` tokens, `outputs` outputs, attending `nKv` cells. */
function graphWork(h: LlamaHparams, tensors: readonly GgufTensor[], repacked: ReadonlySet<string>, c: ContextSizes, s: LlamaCppSettings, g: { tokens: number; outputs: number; nKv: number }, threads: number): number {
  let most = 0;
  const last = h.nLayer - 1;
  for (const t of tensors) {
    const vd = vecDotType(t.typeName);
    let m: RegExpExecArray | null;
    if ((m = MATMUL.exec(t.name))) {
      // The last layer's feed-forward runs on the output rows only (build_inp_out_ids); attention on all tokens.
      const rows = Number(m[1]) === last && m[2]!.startsWith("ffn") ? g.outputs : g.tokens;
      if (vd) most = Math.max(most, rowSize(vd, (t.dims[0] ?? 0) * rows));
    } else if ((m = EXPERTS.exec(t.name))) {
      const rows = Number(m[1]) === last ? g.outputs : g.tokens;
      const nAs = t.dims[2] ?? 1;
      const perToken = m[2] === "down" ? h.nExpertUsed : 1;
      const converted = vd ? rowSize(vd, (t.dims[0] ?? 0) * perToken * rows) : 0;
      if (repacked.has(t.name)) most = Math.max(most, Math.ceil(converted / 8) * 8 + 8 * nAs * (rows + 1));
      else most = Math.max(most, (vd ? converted + 8 : 0) + nAs * 8 + 8 + nAs * h.nExpertUsed * rows * 8 + 8 + CACHE_LINE * nAs + CACHE_LINE);
    } else if (t.name === "output.weight" || (t.name === "token_embd.weight" && !tensors.some((x) => x.name === "output.weight"))) {
      if (vd) most = Math.max(most, rowSize(vd, (t.dims[0] ?? 0) * g.outputs));
    }
  }
  const nH = Math.max(...h.nHead);
  const DK = h.headDimK;
  const DV = h.headDimV;
  if (c.flashAttention) {
    const prefill = 4 * (FA_TILE * DK + 2 * FA_TILE * FA_TILE + FA_TILE * DV + FA_TILE * DV + FA_TILE * DK) * threads;
    const decode = 4 * (nH * threads * (2 + DV) + threads * (DK + 2 * DV));
    most = Math.max(most, prefill, decode);
  } else {
    // K·Q: Q converted to the K cache's vec_dot type; V·KQ (V stored transposed): KQ to the V cache's.
    const k = vecDotType(KV_NAMES[s.typeK] ?? "F16");
    const v = vecDotType(KV_NAMES[s.typeV] ?? "F16");
    if (k) most = Math.max(most, rowSize(k, DK * g.tokens * nH));
    if (v) most = Math.max(most, rowSize(v, g.nKv * g.tokens * nH));
    most = Math.max(most, 4 * g.nKv * threads);
  }
  most = Math.max(most, 4 * Math.max(DK, DV) * threads);
  return most > 0 ? most + CACHE_LINE * threads : 0;
}

/** The work buffer after a prompt of `tokens` tokens in ubatches (the largest graph's need: it only grows). */
export function promptWorkBytes(h: LlamaHparams, tensors: readonly GgufTensor[], repacked: ReadonlySet<string>, s: LlamaCppSettings, c: ContextSizes, tokens: number, threads: number): number {
  if (!KV_CACHE_TYPES[s.typeK]) return 0;
  const ubatch = Math.min(s.ubatch, s.batch);
  let most = 0;
  for (let done = 0; done < tokens; ) {
    const t = Math.min(ubatch, tokens - done);
    done += t;
    const nKv = Math.min(c.cellsBase, Math.max(256, Math.ceil(done / 256) * 256));
    most = Math.max(most, graphWork(h, tensors, repacked, c, s, { tokens: t, outputs: done >= tokens ? 1 : 0, nKv }, threads));
  }
  return most;
}

/** buf_compute_meta of one graph: tensor headers for max_nodes nodes and the graph's node, leaf and hash arrays. */
export function graphMetaBytes(nTensors: number): number {
  const n = Math.max(1024, 8 * nTensors);
  // ggml_hash_size(2n): the next prime of its table at or above 2n; 2n + 1 is within a few bytes of it.
  const hash = 2 * n + 1;
  const graph = 160 + 16 * n + 12 * hash + 4 * Math.ceil(hash / 32);
  return TENSOR_OVERHEAD * n + 32 + Math.ceil(graph / 16) * 16;
}
