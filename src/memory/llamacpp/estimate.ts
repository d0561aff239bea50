/**
 * The llama.cpp runtime: every buffer llama.cpp allocates for a GGUF model, from its header alone, and the
 * process RSS those buffers become.
 *
 * RSS (measured in bench/groundtruth, llama.cpp reading its own /proc/self/status): with mmap llama.cpp maps
 * the file with MAP_POPULATE (llama-mmap.cpp, prefetch) and, once loaded, unmaps what lies outside the mapped
 * buffer's range (load_all_data, unmap_fragment), so the CPU_Mapped span stays resident; every buffer it
 * fills (repacked, AMX, --no-mmap copies) is resident too. On top: the vocabulary's heap (llama_vocab's
 * token tables and piece cache, the GGUF metadata arrays), about VOCAB_BYTES_PER_TOKEN per token, and a
 * fixed LOAD_OVERHEAD. Creating a context clears the KV cache (resident) and adds CONTEXT_OVERHEAD of
 * scheduler and graph metadata; the output and compute buffers are allocated but not touched until the first
 * decode, so they are not resident yet.
 *
 * After a first prompt of PROMPT_TOKENS tokens (one sequence, logits for its last token): the part of the compute
 * buffer the prompt's graphs write (compute.ts promptComputeBytes), the CPU backend's work buffer and the prompt
 * graph's metadata (work.ts), and the one row of logits written into the output buffer.
 */
import type { LlamaCppBuffer } from "../../contract/report.js";
import type { GgufFile } from "../../formats/gguf.js";
import { computeBufferBytes, hasGraphModel, promptComputeBytes } from "./compute.js";
import { readHparams, type LlamaHparams } from "./hparams.js";
import { contextSizes, kvCaches, outputBufferBytes, type ContextSizes, type KvCache } from "./kv-cache.js";
import { modelBuffers, placeTensors, type PlacedTensor } from "./model-buffers.js";

import { graphMetaBytes, promptWorkBytes } from "./work.js";
import type { LlamaCppSettings } from "./settings.js";

/** One buffer llama.cpp allocates: the Report's memory.buffers entry (contract/report.ts). */
export type LlamaBuffer = LlamaCppBuffer;

export interface LlamaCppEstimate {
  hparams: LlamaHparams;
  context: ContextSizes;
  buffers: LlamaBuffer[];
  kvCaches: KvCache[];
  tensors: PlacedTensor[];
  /** Process growth over a process that has loaded the backend; afterPrompt where the compute graph is modelled. */
  rss: { afterLoad: number; afterContext: number; afterPrompt?: number };
  fileBytes: number;
  warnings: string[];
}

/**
 * Measured over the 11 bench models (bench/groundtruth/llamacpp-cpu-*.json; vocabularies of 32000 to 262144
 * tokens): process growth beyond the buffers is 1.5 MiB + 155 bytes per vocabulary token after load, and
 * 1.5 MiB more after context creation.
 */
export const VOCAB_BYTES_PER_TOKEN = 155;
export const LOAD_OVERHEAD = 1.5 * 2 ** 20;
export const CONTEXT_OVERHEAD = 1.5 * 2 ** 20;

/**
 * The prompt rss.afterPrompt is for, and the threads decoding it: the bench's (bench/llamacpp-measure.ts).
 * Threads change only flash attention's per-thread scratch (about 160 KiB each at head width 128).
 */
export const PROMPT_TOKENS = 200;
export const PROMPT_THREADS = 2;

/** The GPU's name in llama.cpp's buffers (CUDA0); llama.cpp's CPU-only numbers are the measured ones. */
export const GPU_BACKEND = "CUDA0";

export function estimateLlamaCpp(g: GgufFile, fileBytes: number, s: LlamaCppSettings): LlamaCppEstimate {
  const h = readHparams(g);
  const warnings: string[] = [];
  const c = contextSizes(h, s);
  const tensors = placeTensors(g.tensors, h, { cpu: s.cpu, mmap: s.mmap, gpuLayers: s.gpuLayers, gpu: GPU_BACKEND });
  const gpu = (device: string) => (device === "CPU" ? {} : { unmeasured: true as const });
  const buffers: LlamaBuffer[] = modelBuffers(g.tensors, tensors).map((b) => ({ device: b.device, kind: "model", buffer: b.buffer, bytes: b.bytes, ...gpu(b.device) }));
  const caches = kvCaches(h, s, c, GPU_BACKEND);
  for (const cache of caches) for (const b of cache.buffers) buffers.push({ device: b.device, kind: "kv", buffer: b.device, bytes: b.bytes, ...gpu(b.device) });
  buffers.push({ device: "CPU", kind: "output", buffer: "CPU", bytes: outputBufferBytes(h, s) });
  if (hasGraphModel(h)) {
    const compute = computeBufferBytes(h, s, c);
    if (s.gpuLayers !== 0) {
      // The offloaded layers' share of the graph runs on the GPU; the CUDA backend's own reservation is not measured here.
      const share = (s.gpuLayers === "all" ? h.nLayer : Math.min(s.gpuLayers, h.nLayer)) / Math.max(1, h.nLayer);
      buffers.push({ device: GPU_BACKEND, kind: "compute", buffer: GPU_BACKEND, bytes: Math.round(compute * share), unmeasured: true });
      if (share < 1) buffers.push({ device: "CPU", kind: "compute", buffer: "CPU", bytes: compute, unmeasured: true });
    } else buffers.push({ device: "CPU", kind: "compute", buffer: "CPU", bytes: compute });
  } else {
    warnings.push(`architecture '${h.arch}': llama.cpp's compute graph for it is not modelled (known: llama, mistral, mixtral, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3); model, KV and output buffers are exact, the compute buffer is left out`);
  }
  const cpuBytes = (kind: LlamaBuffer["kind"], buffer?: string) => buffers.filter((b) => b.device === "CPU" && b.kind === kind && (buffer === undefined || b.buffer === buffer)).reduce((a, b) => a + b.bytes, 0);
  const afterLoad = cpuBytes("model") + LOAD_OVERHEAD + h.nVocab * VOCAB_BYTES_PER_TOKEN;
  const afterContext = afterLoad + cpuBytes("kv") + CONTEXT_OVERHEAD;
  const rss: LlamaCppEstimate["rss"] = { afterLoad, afterContext };
  if (hasGraphModel(h) && s.gpuLayers === 0) {
    const repacked = new Set(tensors.filter((t) => t.repack).map((t) => t.name));
    const tokens = Math.min(PROMPT_TOKENS, c.nCtxSeq);
    rss.afterPrompt = afterContext + promptComputeBytes(h, s, c, tokens) + promptWorkBytes(h, g.tensors, repacked, s, c, tokens, PROMPT_THREADS) + graphMetaBytes(g.tensors.length) + h.nVocab * 4;
  }
  return { hparams: h, context: c, buffers, kvCaches: caches, tensors, rss, fileBytes, warnings };
}
