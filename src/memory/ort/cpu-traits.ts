/**
 * What ONNX Runtime's CPU provider does differently per instruction set (src/memory/cpu.ts): the facts the
 * ort-cpu profile reads from the CPU, one row per ISA. MLAS fixes them once per process in
 * MLAS_PLATFORM::MLAS_PLATFORM (onnxruntime/core/mlas/lib/platform.cpp).
 */
import type { CpuIsa } from "../cpu.js";

export interface OrtCpuTraits {
  /**
   * MlasNchwcGetBlockSize(): the NCHWc layout's channel block; 0 where ORT registers no NCHWc transformer
   * (it does so only when the block is > 1, graph_transformer_utils.cc). x86-64 starts at 8 (SSE2, AVX2)
   * and AVX512F sets 16. AArch64 has NCHWc kernels only in builds with MLAS_USE_ARM_NEON_NCHWC (CMake
   * onnxruntime_USE_ARM_NEON_NCHWC, off by default; onnxruntime-node's prebuilt binaries are default builds).
   */
  nchwcBlock: number;
  /** RSS a session adds besides its weights (see ORT_SESSION_BASE in estimate.ts), and where it was measured. */
  sessionBaseBytes: number;
  sessionBaseSource: string;
}

const MIB = 1 << 20;

export const ORT_CPU_TRAITS: Readonly<Record<CpuIsa, OrtCpuTraits>> = {
  avx2: {
    nchwcBlock: 8,
    sessionBaseBytes: 30 * MIB,
    sessionBaseSource: "measured: AMD EPYC, AVX2 (ort-cpu-memory.json: vit_b_16 and mobilenet_v2, 29-33 MiB)",
  },
  avx512: {
    nchwcBlock: 16,
    sessionBaseBytes: 30 * MIB,
    sessionBaseSource: "measured: AMD EPYC, AVX-512 (ort-cpu-legacy-epyc2-avx512: the 7 fixtures' sessions load as on AVX2, load peaks within 0.3-19% as there)",
  },
  amx: {
    nchwcBlock: 16,
    sessionBaseBytes: 30 * MIB,
    sessionBaseSource: "assumed as on AVX2/AVX-512 (issue 15 reports about 27.3 MB on an Intel Xeon with AMX; not measured here)",
  },
  neon: {
    nchwcBlock: 0,
    sessionBaseBytes: 30 * MIB,
    sessionBaseSource: "assumed as x86-64 AVX2 (not measured on AArch64)",
  },
  generic: {
    nchwcBlock: 0,
    sessionBaseBytes: 30 * MIB,
    sessionBaseSource: "assumed as x86-64 AVX2 (CPU unknown)",
  },
};
