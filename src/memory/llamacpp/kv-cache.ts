/**
 * llama.cpp's KV cache (llama-context.cpp constructor, llama-kv-cache.cpp, llama-kv-cache-iswa.cpp):
 * - n_ctx is padded to 256; without --kv-unified each of the n_seq_max sequences gets its own stream of
 *   n_ctx_seq = pad(n_ctx / n_seq_max, 256) cells, with it one stream of n_ctx cells;
 * - each layer holds K [n_embd_k_gqa, cells, streams] and V [n_embd_v_gqa, cells, streams] at -ctk/-ctv;
 * - sliding-window models keep two caches: the global layers at full size, the windowed layers at
 *   pad(min(full, n_swa * (unified ? n_seq_max : 1) + n_ubatch), 256) cells, or full size with --swa-full;
 * - each cache is one buffer per device, tensors padded to the buffer's alignment.
 */
import { UsageError } from "../../errors.js";
import { kvWidths, type LlamaHparams } from "./hparams.js";
import { CPU_ALIGNMENT, CUDA_ALIGNMENT, onGpu } from "./model-buffers.js";
import { KV_CACHE_TYPES, type LlamaCppSettings } from "./settings.js";

const pad = (n: number, a: number) => Math.ceil(n / a) * a;

export interface ContextSizes {
  /** n_ctx after padding, and the cells of one stream. */
  nCtx: number;
  nCtxSeq: number;
  streams: number;
  /** Cells of the global cache and, for SWA models, of the windowed one. */
  cellsBase: number;
  cellsSwa: number;
  flashAttention: boolean;
}

export interface KvCache {
  /** "base" or "swa". */
  name: string;
  cells: number;
  layers: number;
  kBytes: number;
  vBytes: number;
  buffers: { device: string; bytes: number }[];
}

/** Bytes of one row of `width` elements in a cache type (ggml_row_size). */
export function rowBytes(type: string, width: number): number {
  const t = KV_CACHE_TYPES[type];
  if (!t) throw new UsageError(`cache type ${type}: not a KV cache type llama.cpp accepts`);
  if (width % t.block !== 0) throw new UsageError(`cache type ${type}: a row of ${width} is not whole blocks of ${t.block}`);
  return (width / t.block) * t.bytes;
}

export function contextSizes(h: LlamaHparams, s: LlamaCppSettings): ContextSizes {
  let nCtx = pad(s.ctx === 0 ? h.nCtxTrain : s.ctx, 256);
  let nCtxSeq = nCtx;
  if (!s.kvUnified) {
    nCtxSeq = pad(Math.floor(nCtx / s.parallel), 256);
    nCtx = nCtxSeq * s.parallel;
  }
  const streams = s.kvUnified ? 1 : s.parallel;
  const hasSwa = h.nSwa > 0 && h.isSwa.some(Boolean);
  const ubatch = Math.min(s.ubatch, s.batch);
  const cellsSwa = !hasSwa ? 0 : s.swaFull ? nCtxSeq : pad(Math.min(nCtxSeq, h.nSwa * (s.kvUnified ? s.parallel : 1) + ubatch), 256);
  // -fa auto: the CPU backend runs FLASH_ATTN_EXT for these caches, so llama.cpp turns it on.
  const flashAttention = s.fa !== "off";
  const quantizedV = KV_CACHE_TYPES[s.typeV]!.block > 1;
  if (quantizedV && !flashAttention) throw new UsageError(`-ctv ${s.typeV}: llama.cpp needs flash attention (-fa on) for a quantized V cache`);
  return { nCtx, nCtxSeq, streams, cellsBase: nCtxSeq, cellsSwa, flashAttention };
}

export function kvCaches(h: LlamaHparams, s: LlamaCppSettings, c: ContextSizes, gpu: string): KvCache[] {
  const groups: { name: string; cells: number; layers: number[] }[] = [];
  const all = Array.from({ length: h.nLayer }, (_, i) => i);
  if (c.cellsSwa > 0) {
    groups.push({ name: "base", cells: c.cellsBase, layers: all.filter((i) => !h.isSwa[i]) });
    groups.push({ name: "swa", cells: c.cellsSwa, layers: all.filter((i) => h.isSwa[i]) });
  } else groups.push({ name: "base", cells: c.cellsBase, layers: all });
  return groups.map(({ name, cells, layers }) => {
    let kBytes = 0;
    let vBytes = 0;
    const perDevice = new Map<string, number>();
    for (const il of layers) {
      const w = kvWidths(h, il);
      const k = rowBytes(s.typeK, w.k) * cells * c.streams;
      const v = rowBytes(s.typeV, w.v) * cells * c.streams;
      kBytes += k;
      vBytes += v;
      const device = onGpu(il, h.nLayer, s.gpuLayers) ? gpu : "CPU";
      const align = device === "CPU" ? CPU_ALIGNMENT : CUDA_ALIGNMENT;
      perDevice.set(device, (perDevice.get(device) ?? 0) + pad(k, align) + pad(v, align));
    }
    return { name, cells, layers: layers.length, kBytes, vBytes, buffers: [...perDevice].map(([device, bytes]) => ({ device, bytes })) };
  });
}

/** The logits buffer llama_context::output_reserve allocates at creation: n_vocab floats per sequence. */
export function outputBufferBytes(h: LlamaHparams, s: LlamaCppSettings): number {
  return h.nVocab * s.parallel * 4;
}
