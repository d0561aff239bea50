/**
 * The llama.cpp estimate as the one Report every renderer draws (`memory.buffers`, `memory.rss`; the JSON
 * contract of issue 16): the buffers per device, with the familiar totals filled from them.
 */
import type { GgufFile } from "../../formats/gguf.js";
import { SCHEMA, type Report } from "../../contract/report.js";
import type { Device } from "../devices.js";
import { CONTEXT_OVERHEAD, LOAD_OVERHEAD, PROMPT_THREADS, PROMPT_TOKENS, VOCAB_BYTES_PER_TOKEN, estimateLlamaCpp, type LlamaCppEstimate } from "./estimate.js";
import { llamaFlagsText, type LlamaCppSettings } from "./settings.js";

export interface LlamaCppReportInput {
  file: string;
  gguf: GgufFile;
  fileBytes: number;
  settings: LlamaCppSettings;
  device: Device;
  /** How the report names the CPU variant: "--cpu" or "AMD EPYC (this machine)". */
  cpuFrom: string;
  warnings: string[];
}

const sum = (xs: readonly { bytes: number }[]) => xs.reduce((a, b) => a + b.bytes, 0);

/** The ggml type holding most of the weights' bytes (the file's "Q4_K", "F16"...). */
function dominantType(g: GgufFile): string {
  const by = new Map<string, number>();
  for (const t of g.tensors) by.set(t.typeName, (by.get(t.typeName) ?? 0) + t.bytes);
  return [...by].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "unknown";
}

export function llamaCppReport(input: LlamaCppReportInput): { report: Report; estimate: LlamaCppEstimate } {
  const { gguf: g, settings: s, device } = input;
  const est = estimateLlamaCpp(g, input.fileBytes, s);
  const gpu = device.capacity.value !== null;
  const onDevice = est.buffers.filter((b) => (gpu ? b.device !== "CPU" : b.device === "CPU"));
  // Host side: the vocabulary's heap and llama.cpp's bookkeeping (measured, src/memory/llamacpp/estimate.ts);
  // on a GPU: the CUDA context from the device table (measured with PyTorch's CUDA build; unmeasured for llama.cpp).
  const hostOverhead = LOAD_OVERHEAD + CONTEXT_OVERHEAD + est.hparams.nVocab * VOCAB_BYTES_PER_TOKEN;
  const overhead = gpu ? device.contextLazy.value : hostOverhead;
  const byKind = (kind: string) => sum(onDevice.filter((b) => b.kind === kind));
  const total = sum(onDevice) + overhead;
  const devices = [...new Set(est.buffers.map((b) => b.device))].map((d) => ({ device: d, bytes: sum(est.buffers.filter((b) => b.device === d)) }));
  const parameters = g.tensors.reduce((a, t) => a + t.elements, 0);
  const report: Report = {
    schema: SCHEMA,
    model: { file: input.file, format: "gguf", producer: est.hparams.name, opsets: {}, nodes: 0, parameters, weightBytes: g.tensors.reduce((a, t) => a + t.bytes, 0) },
    settings: {
      batch: s.parallel,
      inputs: {},
      dtype: dominantType(g),
      runtime: "llama.cpp",
      device: device.id,
      mode: "inference",
      dims: { ctx: est.context.nCtx, ubatch: s.ubatch, parallel: s.parallel },
      cpu: s.cpu,
      cpuFrom: input.cpuFrom,
    },
    layers: [],
    memory: {
      weights: byKind("model"),
      inputs: 0,
      outputs: byKind("output"),
      activationPeak: byKind("compute"),
      workspace: 0,
      peakAllocated: sum(onDevice),
      peakReserved: sum(onDevice),
      runtimeOverhead: overhead,
      total,
      peakAt: { layer: "", live: [] },
      perBatch: { formula: "model buffers + KV cache (n_ctx cells) + output (n_vocab floats per sequence) + compute (one ubatch)" },
      kvCache: byKind("kv"),
      buffers: est.buffers,
      rss: est.rss,
      llamacpp: {
        flags: llamaFlagsText(s),
        arch: est.hparams.arch,
        nCtx: est.context.nCtx,
        nCtxSeq: est.context.nCtxSeq,
        nCtxTrain: est.hparams.nCtxTrain,
        streams: est.context.streams,
        flashAttention: est.context.flashAttention,
        kvCaches: est.kvCaches.map((c) => ({ name: c.name, cells: c.cells, layers: c.layers, kBytes: c.kBytes, vBytes: c.vBytes })),
        repackedTensors: est.tensors.filter((t) => t.repack).length,
        fileBytes: input.fileBytes,
        ...(est.rss.afterPrompt !== undefined ? { promptTokens: Math.min(PROMPT_TOKENS, est.context.nCtxSeq), promptThreads: PROMPT_THREADS } : {}),
        hostOverhead,
        devices,
      },
    },
    warnings: [...input.warnings, ...est.warnings],
  };
  return { report, estimate: est };
}
