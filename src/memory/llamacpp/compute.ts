/**
 * The compute buffer llama.cpp's scheduler reserves (llama-context.cpp sched_reserve): the larger of the
 * prompt graph (n_tokens = min(n_ctx, n_ubatch), outputs min(n_tokens, n_outputs_max = n_batch), the tokens
 * split over the streams) and the generation graph (one token per sequence), each replayed through ggml's
 * allocator. One CPU buffer when everything runs on the CPU.
 */
import { reserveBytes } from "./gallocr.js";
import { buildGraph, type ReserveShape } from "./graph.js";
import { GRAPH_ARCHS, type LlamaHparams } from "./hparams.js";
import type { ContextSizes } from "./kv-cache.js";
import { CPU_ALIGNMENT } from "./model-buffers.js";
import { KV_CACHE_TYPES, type LlamaCppSettings } from "./settings.js";

export function hasGraphModel(h: LlamaHparams): boolean {
  return (GRAPH_ARCHS as readonly string[]).includes(h.arch);
}

/** The graph's shape at `tokens` tokens and `outputs` outputs, over `streams` streams of `kv` attended cells. */
function graphShape(h: LlamaHparams, s: LlamaCppSettings, c: ContextSizes, at: { tokens: number; outputs: number; streams: number; kvBase: number; kvSwa: number }): ReserveShape {
  // attn_rot_k/v (llama-kv-cache.cpp): a quantized cache whose head width is a multiple of 64 is written and
  // read through a Hadamard rotation.
  const quantized = (t: string) => (KV_CACHE_TYPES[t]?.block ?? 1) > 1;
  return { ...at, flashAttention: c.flashAttention, rotateK: quantized(s.typeK) && h.headDimK % 64 === 0, rotateV: quantized(s.typeV) && h.headDimV % 64 === 0 };
}

/** ggml_gallocr's buffer for one graph: the high-water mark of its tensors in ggml-alloc's layout. */
function graphBytes(h: LlamaHparams, r: ReserveShape): number {
  const g = buildGraph(h, r);
  return reserveBytes(g.tensors, g.order, g.leafs, CPU_ALIGNMENT);
}

export function computeBufferBytes(h: LlamaHparams, s: LlamaCppSettings, c: ContextSizes): number {
  const nBatch = Math.min(c.nCtx, s.batch);
  const tokens = Math.min(c.nCtx, Math.min(nBatch, s.ubatch));
  const outputs = Math.min(tokens, nBatch);
  const shape = (tokensNow: number, outputsNow: number) => graphShape(h, s, c, { tokens: tokensNow, outputs: outputsNow, streams: c.streams, kvBase: c.cellsBase, kvSwa: c.cellsSwa });
  const prompt = graphBytes(h, shape(Math.max(tokens, c.streams), Math.max(outputs, c.streams)));
  const generate = graphBytes(h, shape(c.streams, c.streams));
  return Math.max(prompt, generate);
}

/**
 * The part of the compute buffer a first prompt of `tokens` tokens (one sequence, logits for its last token)
 * writes. llama_decode splits the prompt into ubatches of n_ubatch; each ubatch's graph attends
 * n_kv = min(cells, max(256, pad(cells used, 256))) cells (llama-kv-cache.cpp get_n_kv), and ggml's allocator
 * lays it out again from the buffer's start (ggml_gallocr_needs_realloc), so the pages written are those below
 * the largest of these graphs' high-water marks. The reservation above them stays untouched.
 */
export function promptComputeBytes(h: LlamaHparams, s: LlamaCppSettings, c: ContextSizes, tokens: number): number {
  const ubatch = Math.min(s.ubatch, s.batch);
  const nKv = (cells: number, used: number) => Math.min(cells, Math.max(256, Math.ceil(used / 256) * 256));
  let most = 0;
  for (let done = 0; done < tokens; ) {
    const t = Math.min(ubatch, tokens - done);
    done += t;
    const last = done >= tokens;
    const r = graphShape(h, s, c, { tokens: t, outputs: last ? 1 : 0, streams: 1, kvBase: nKv(c.cellsBase, done), kvSwa: c.cellsSwa > 0 ? nKv(c.cellsSwa, done) : 0 });
    most = Math.max(most, graphBytes(h, r));
  }
  return most;
}
