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

export function computeBufferBytes(h: LlamaHparams, s: LlamaCppSettings, c: ContextSizes): number {
  const nBatch = Math.min(c.nCtx, s.batch);
  const tokens = Math.min(c.nCtx, Math.min(nBatch, s.ubatch));
  const outputs = Math.min(tokens, nBatch);
  // attn_rot_k/v (llama-kv-cache.cpp): a quantized cache whose head width is a multiple of 64 is written and
  // read through a Hadamard rotation.
  const quantized = (t: string) => (KV_CACHE_TYPES[t]?.block ?? 1) > 1;
  const shape = (tokensNow: number, outputsNow: number): ReserveShape => ({
    tokens: tokensNow,
    outputs: outputsNow,
    streams: c.streams,
    kvBase: c.cellsBase,
    kvSwa: c.cellsSwa,
    flashAttention: c.flashAttention,
    rotateK: quantized(s.typeK) && h.headDimK % 64 === 0,
    rotateV: quantized(s.typeV) && h.headDimV % 64 === 0,
  });
  const reserve = (r: ReserveShape) => {
    const g = buildGraph(h, r);
    return reserveBytes(g.tensors, g.order, g.leafs, CPU_ALIGNMENT);
  };
  const prompt = reserve(shape(Math.max(tokens, c.streams), Math.max(outputs, c.streams)));
  const generate = reserve(shape(c.streams, c.streams));
  return Math.max(prompt, generate);
}
