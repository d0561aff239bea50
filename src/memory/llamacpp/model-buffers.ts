/**
 * llama.cpp's model buffers, tensor by tensor from the GGUF header (llama-model.cpp load_tensors,
 * llama-model-loader.cpp):
 * - each tensor is placed on a device by layer: the input embedding always on the CPU, repeating layer il on
 *   the GPU when il >= n_layer - n_gpu_layers, the output layer on the GPU only when n_gpu_layers > n_layer;
 * - on the CPU it takes the first buffer type of [AMX, CPU_REPACK, CPU] that supports the op it feeds
 *   (select_weight_buft / weight_buft_supported): the extra types only take matrices that feed MUL_MAT
 *   (AMX, ggml-cpu/amx/amx.cpp) or MUL_MAT / MUL_MAT_ID (CPU_REPACK, ggml-cpu/repack.cpp
 *   ggml_repack_get_optimal_repack_type) in the types and row counts their kernels handle;
 * - with mmap the CPU tensors stay in the file: one CPU_Mapped buffer spanning the first to the last of them
 *   (get_mapping_range); without mmap, and for every other buffer type, one buffer of the tensors' sizes each
 *   padded to the buffer type's alignment (ggml_backend_alloc_ctx_tensors_from_buft);
 * - a tied output projection is a second tensor over the embedding's data (TENSOR_DUPLICATED), placed as an
 *   output-layer matrix.
 */
import { GGML_TYPES, type GgufTensor } from "../../formats/gguf.js";
import type { CpuIsa } from "../cpu.js";
import type { LlamaHparams } from "./hparams.js";

/** TENSOR_ALIGNMENT (ggml-cpu) for CPU, CPU_REPACK and AMX buffers; the CUDA buffer type aligns to 128. */
export const CPU_ALIGNMENT = 32;
export const CUDA_ALIGNMENT = 128;
/** ggml-cuda MATRIX_ROW_PADDING: quantized rows are padded to a multiple of 512 elements in CUDA buffers. */
const CUDA_ROW_PADDING = 512;

export type WeightOp = "get_rows" | "mul_mat" | "mul_mat_id" | "elementwise";

export interface PlacedTensor {
  name: string;
  device: string;
  buffer: string;
  bytes: number;
  /** For the repacked ones: the layout the CPU backend picks (q4_0_8x8...). */
  repack?: string;
}

export interface ModelBuffer {
  device: string;
  buffer: string;
  bytes: number;
}

const pad = (n: number, a: number) => Math.ceil(n / a) * a;

/** Which op consumes a weight, from its name (llama.cpp's tensor info table, llm_tensor_info_mapping). */
export function weightOp(t: { name: string; dims: readonly number[] }): WeightOp {
  if (t.name === "token_embd.weight") return "get_rows";
  if (t.dims.length === 3 && /_exps\.weight$/.test(t.name)) return "mul_mat_id";
  if (t.dims.length >= 2 && /\.weight$/.test(t.name) && !/norm/.test(t.name)) return "mul_mat";
  return "elementwise";
}

/** x86: Q4_0, Q4_K, IQ4_NL, MXFP4 with AVX2, Q2_K with AVX-512, rows in groups of 8; AArch64: NEON dot-product layouts. */
export function repackLayout(typeName: string, dims: readonly number[], cpu: CpuIsa): string | undefined {
  const rows = dims[1] ?? 1;
  const x86 = cpu === "avx2" || cpu === "avx512" || cpu === "amx";
  if (x86) {
    if (rows % 8 !== 0) return undefined;
    if (typeName === "Q4_0") return "q4_0_8x8";
    if (typeName === "Q4_K") return "q4_K_8x8";
    if (typeName === "IQ4_NL") return "iq4_nl_8x8";
    if (typeName === "MXFP4") return "mxfp4_8x8";
    if (typeName === "Q2_K" && cpu !== "avx2") return "q2_K_8x8";
    return undefined;
  }
  if (cpu === "neon") {
    if (typeName === "Q4_0" && rows % 4 === 0) return "q4_0_4x8";
    if (typeName === "Q4_K" && rows % 8 === 0) return "q4_K_8x8";
    if (typeName === "IQ4_NL" && rows % 4 === 0) return "iq4_nl_4x4";
    if (typeName === "Q8_0" && rows % 4 === 0) return "q8_0_4x8";
  }
  return undefined;
}

/** AMX kernels (ggml-cpu/amx): row length in whole tiles (32, or 256 for K-quants, 16 for F16), out-features in 32s. */
function amxBytes(t: GgufTensor): number | undefined {
  const k = t.dims[0] ?? 0;
  const n = t.dims[1] ?? 1;
  if (t.dims.length !== 2 || n % 32 !== 0) return undefined;
  const kb32 = ["Q4_0", "Q4_1", "Q8_0"].includes(t.typeName);
  const kb256 = ["Q4_K", "Q5_K", "Q6_K", "IQ4_XS"].includes(t.typeName);
  const align = kb32 ? 32 : kb256 ? 256 : t.typeName === "F16" ? 16 : 0;
  if (align === 0 || k % align !== 0) return undefined;
  if (t.typeName === "F16") return t.bytes;
  const type = Object.values(GGML_TYPES).find((x) => x.name === t.typeName)!;
  const blocks = k / type.block;
  // get_row_size: Q8_0 keeps an int32 compensation per block, Q4_K/Q5_K 4 bytes more, IQ4_XS 2 more.
  const extra = t.typeName === "Q8_0" || t.typeName === "Q4_K" || t.typeName === "Q5_K" ? 4 : t.typeName === "IQ4_XS" ? 2 : 0;
  return n * blocks * (type.bytes + extra);
}

/** Bytes of a tensor in a CUDA buffer: quantized rows padded to 512 elements. */
function cudaBytes(t: GgufTensor): number {
  const type = Object.values(GGML_TYPES).find((x) => x.name === t.typeName)!;
  const row = t.dims[0] ?? 1;
  if (type.block === 1 || row % CUDA_ROW_PADDING === 0) return t.bytes;
  return t.bytes + ((CUDA_ROW_PADDING - (row % CUDA_ROW_PADDING)) / type.block) * type.bytes;
}

function layerOf(name: string): number | undefined {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The GPU holds repeating layer il when il >= n_layer - ngl, and the output layer when ngl > n_layer. */
export function onGpu(il: number | "output", nLayer: number, gpuLayers: number | "all"): boolean {
  const ngl = gpuLayers === "all" ? nLayer + 1 : gpuLayers;
  if (il === "output") return ngl > nLayer;
  return il >= nLayer - ngl;
}

export function placeTensors(tensors: readonly GgufTensor[], h: LlamaHparams, opts: { cpu: CpuIsa; mmap: boolean; gpuLayers: number | "all"; gpu: string }): PlacedTensor[] {
  const tied = !tensors.some((t) => t.name === "output.weight");
  const embd = tensors.find((t) => t.name === "token_embd.weight");
  const list: { t: GgufTensor; name: string; layer: number | "input" | "output" }[] = tensors.map((t) => {
    const l = layerOf(t.name);
    return { t, name: t.name, layer: l ?? (t.name === "token_embd.weight" ? "input" : "output") };
  });
  if (tied && embd) list.push({ t: embd, name: "output.weight (token_embd.weight)", layer: "output" });
  const placed = list.map(({ t, name, layer }): PlacedTensor => {
    const op = name.startsWith("output.weight") ? "mul_mat" : weightOp(t);
    const gpu = layer !== "input" && onGpu(layer, h.nLayer, opts.gpuLayers);
    if (gpu) return { name, device: opts.gpu, buffer: opts.gpu, bytes: cudaBytes(t) };
    if (opts.cpu === "amx" && op === "mul_mat") {
      const bytes = amxBytes(t);
      if (bytes !== undefined) return { name, device: "CPU", buffer: "AMX", bytes };
    }
    const repack = op === "mul_mat" || op === "mul_mat_id" ? repackLayout(t.typeName, t.dims, opts.cpu) : undefined;
    if (repack) return { name, device: "CPU", buffer: "CPU_REPACK", bytes: t.bytes, repack };
    return { name, device: "CPU", buffer: opts.mmap ? "CPU_Mapped" : "CPU", bytes: t.bytes };
  });
  // create_tensor(TENSOR_DUPLICATED) returns the embedding itself when both land in the same buffer type.
  const embdBuffer = placed.find((p) => p.name === "token_embd.weight")?.buffer;
  return placed.filter((p) => !(p.name.startsWith("output.weight (") && p.buffer === embdBuffer));
}

/** One buffer per (device, buffer type), in llama.cpp's order of logging. */
export function modelBuffers(tensors: readonly GgufTensor[], placed: readonly PlacedTensor[]): ModelBuffer[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out: ModelBuffer[] = [];
  const order = ["CPU_Mapped", "CPU", "AMX", "CPU_REPACK"];
  const buffers = [...new Set(placed.map((p) => p.buffer))].sort((a, b) => (order.indexOf(a) + 99) % 99 - (order.indexOf(b) + 99) % 99);
  for (const buffer of buffers) {
    const mine = placed.filter((p) => p.buffer === buffer);
    const device = mine[0]!.device;
    if (buffer === "CPU_Mapped") {
      // The mapped range: from the first to the last byte of this buffer's tensors in the file.
      let first = Infinity;
      let last = 0;
      for (const p of mine) {
        const t = byName.get(p.name);
        if (!t) continue;
        first = Math.min(first, t.offset);
        last = Math.max(last, t.offset + t.bytes);
      }
      if (last > first) out.push({ device, buffer, bytes: last - first });
      continue;
    }
    const align = device === "CPU" ? CPU_ALIGNMENT : CUDA_ALIGNMENT;
    out.push({ device, buffer, bytes: mine.reduce((s, p) => s + pad(p.bytes, align), 0) });
  }
  return out;
}
