/**
 * The device table: what each GPU offers and what the CUDA runtime takes before a tensor exists.
 * Every number says where it comes from: `measured` (bench/groundtruth/h200-torch2.11.json, this project's own runs under
 * bench/groundtruth) or
 * `assumed` (a spec sheet, or a measurement on another card carried over, with the reason).
 */

export interface Sourced<T> {
  value: T;
  source: "measured" | "assumed";
  note: string;
}

/** What a runtime needs of a device: a CUDA GPU, or the host CPU. */
export type DeviceKind = "cuda" | "cpu";

export interface Device {
  id: string;
  name: string;
  kind: DeviceKind;
  /** Device memory nvidia-smi reports as total, bytes (null for the CPU). */
  capacity: Sourced<number | null>;
  /** CUDA compute capability, e.g. 9.0 (null for the CPU). */
  computeCapability: Sourced<number | null>;
  /** Process memory right after CUDA init, with lazy module loading (PyTorch's default). */
  contextLazy: Sourced<number>;
  /** The same with CUDA_MODULE_LOADING=EAGER. */
  contextEager: Sourced<number>;
  /** Kernel images and handles cuBLAS and cuDNN add on first use (lazy loading), outside the allocator. */
  librariesLazy: { cublas: Sourced<number>; cudnn: Sourced<number> };
  /** Both libraries' kernels loaded up front (eager loading), outside the allocator. */
  librariesEager: Sourced<number>;
}

const MiB = 1 << 20;
const H200_RUN = "H200, driver 580.159, PyTorch 2.11+cu130 (groundtruth/h200-torch2.11.json)";
const carried = (what: string) => `${what} measured on the ${H200_RUN}; assumed the same here: same PyTorch/CUDA build, not measured on this card`;

function measuredOnH200(): Pick<Device, "contextLazy" | "contextEager" | "librariesLazy" | "librariesEager"> {
  return {
    contextLazy: { value: 612 * MiB, source: "measured", note: `context[].after_init_1_float, ${H200_RUN}` },
    contextEager: { value: 1252 * MiB, source: "measured", note: `seed_fresh_process[] with CUDA_MODULE_LOADING=EAGER, ${H200_RUN}` },
    librariesLazy: {
      cublas: { value: 66 * MiB, source: "measured", note: "context[]: 730 MiB after the first sgemm minus 612 MiB, minus the 52 MiB the allocator reserved" },
      cudnn: { value: 8 * MiB, source: "measured", note: "context[]: 738 MiB after the first cuDNN conv minus 730 MiB, reserved unchanged" },
    },
    librariesEager: { value: 726 * MiB, source: "measured", note: "seed_fresh_process[] EAGER row: 2476 - 1252 MiB process growth minus the 498 MiB reserved" },
  };
}

const H100_RUN = "H100 80GB HBM3, driver 580.159, PyTorch 2.11+cu130 (bench/groundtruth/gpu-h100-torch2.11-*.jsonl)";

/** bench/gpu/run-h100.sh: the H200's steps on an H100; every figure but the eager context came out the same. */
function measuredOnH100(): Pick<Device, "contextLazy" | "contextEager" | "librariesLazy" | "librariesEager"> {
  return {
    contextLazy: { value: 612 * MiB, source: "measured", note: `context steps: after_init_1_float, ${H100_RUN}` },
    contextEager: { value: 1254 * MiB, source: "measured", note: `fresh seed process with CUDA_MODULE_LOADING=EAGER (the context script read 1,252), ${H100_RUN}` },
    librariesLazy: {
      cublas: { value: 66 * MiB, source: "measured", note: `context steps: 730 MiB after the first sgemm minus 612 MiB, minus the 52 MiB the allocator reserved, ${H100_RUN}` },
      cudnn: { value: 8 * MiB, source: "measured", note: `context steps: 738 MiB after the first cuDNN conv minus 730 MiB, ${H100_RUN}` },
    },
    librariesEager: { value: 726 * MiB, source: "measured", note: `EAGER seed row: 2478 - 1254 MiB process growth minus the 498 MiB reserved, ${H100_RUN}` },
  };
}

function carriedFromH200(): Pick<Device, "contextLazy" | "contextEager" | "librariesLazy" | "librariesEager"> {
  return {
    contextLazy: { value: 612 * MiB, source: "assumed", note: carried("612 MiB context") },
    contextEager: { value: 1252 * MiB, source: "assumed", note: carried("1,252 MiB eager-loading context") },
    librariesLazy: {
      cublas: { value: 66 * MiB, source: "assumed", note: carried("66 MiB of cuBLAS kernels") },
      cudnn: { value: 8 * MiB, source: "assumed", note: carried("8 MiB of cuDNN kernels") },
    },
    librariesEager: { value: 726 * MiB, source: "assumed", note: carried("726 MiB of eagerly loaded library kernels") },
  };
}

function gpu(id: string, name: string, capacityMiB: number, capNote: string, cc: number, capSource: "measured" | "assumed" = "assumed"): Device {
  return {
    id,
    name,
    kind: "cuda",
    capacity: { value: capacityMiB * MiB, source: capSource, note: capNote },
    computeCapability: { value: cc, source: "assumed", note: "NVIDIA CUDA GPUs table (developer.nvidia.com/cuda-gpus)" },
    ...(id === "h200" ? measuredOnH200() : id === "h100" ? measuredOnH100() : carriedFromH200()),
  };
}

export const DEVICES: readonly Device[] = [
  { ...gpu("h200", "NVIDIA H200", 143771, "nvidia-smi memory.total in the ground-truth run", 9.0, "measured") },
  gpu("h100", "NVIDIA H100 80GB", 81559, "nvidia-smi memory.total on the H100 80GB HBM3 of bench/gpu/run-h100.sh", 9.0, "measured"),
  gpu("a100-80gb", "NVIDIA A100 80GB", 81920, "nvidia-smi memory.total commonly reported for A100 80GB", 8.0),
  gpu("a100-40gb", "NVIDIA A100 40GB", 40960, "nvidia-smi memory.total commonly reported for A100 40GB", 8.0),
  gpu("l4", "NVIDIA L4", 23034, "nvidia-smi memory.total commonly reported for L4 (24 GB, ECC on)", 8.9),
  gpu("t4", "NVIDIA T4", 15360, "nvidia-smi memory.total commonly reported for T4 (16 GB, ECC on)", 7.5),
  gpu("rtx4090", "NVIDIA GeForce RTX 4090", 24564, "nvidia-smi memory.total commonly reported for RTX 4090", 8.9),
  gpu("rtx3090", "NVIDIA GeForce RTX 3090", 24576, "nvidia-smi memory.total commonly reported for RTX 3090", 8.6),
  {
    id: "cpu",
    name: "host CPU",
    kind: "cpu",
    capacity: { value: null, source: "assumed", note: "host RAM: not a fixed number; see the ort-cpu runtime" },
    computeCapability: { value: null, source: "assumed", note: "not a CUDA device" },
    contextLazy: { value: 0, source: "assumed", note: "no CUDA context on the CPU" },
    contextEager: { value: 0, source: "assumed", note: "no CUDA context on the CPU" },
    librariesLazy: {
      cublas: { value: 0, source: "assumed", note: "no cuBLAS on the CPU" },
      cudnn: { value: 0, source: "assumed", note: "no cuDNN on the CPU" },
    },
    librariesEager: { value: 0, source: "assumed", note: "no CUDA libraries on the CPU" },
  },
];

export function findDevice(id: string): Device | undefined {
  return DEVICES.find((d) => d.id === id);
}

/**
 * cuBLAS workspace per handle and stream (aten/src/ATen/cuda/CublasHandlePool.cpp): 32 MiB on compute
 * capability 9.0 and later, else the default CUBLAS_WORKSPACE_CONFIG ":4096:2:16:8" = 2 x 4 MiB + 8 x 16 KiB.
 */
export function cublasWorkspaceBytes(computeCapability: number): number {
  return computeCapability >= 9.0 ? 32 * MiB : 2 * 4096 * 1024 + 8 * 16 * 1024;
}
