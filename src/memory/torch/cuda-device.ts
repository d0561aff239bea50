/**
 * What eager PyTorch holds on a CUDA device outside its caching allocator (the context, the library kernels),
 * and the checks every pytorch-cuda estimate makes against the device table: a CUDA device, its capacity, and
 * whether its sizes are measured or carried over from another card.
 */
import { UsageError } from "../../errors.js";
import { DEVICES, findDevice, type Device } from "../devices.js";
import type { EagerProgram } from "./eager.js";

export function gib(n: number): string {
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}

export function torchDevice(id: string): Device {
  const d = findDevice(id);
  if (!d || d.computeCapability.value === null) {
    const gpus = DEVICES.filter((x) => x.computeCapability.value !== null).map((x) => x.id).join(", ");
    throw new UsageError(`--device ${id}: pytorch-cuda needs a CUDA device (${gpus})`);
  }
  return d;
}

/**
 * The CUDA context and the library kernels outside the allocator. With lazy module loading (PyTorch's default)
 * cuBLAS's kernels load at the first GEMM and cuDNN's at the first convolution; eager loading loads them all.
 */
export function cudaRuntime(device: Device, program: EagerProgram, usesCublas: boolean, loading: "lazy" | "eager" | undefined): { context: number; runtimeOverhead: number } {
  const eagerLoading = loading === "eager";
  const usesConv = program.ops.some((op) => op.convs.length > 0);
  const libraries = eagerLoading
    ? device.librariesEager.value
    : (usesCublas ? device.librariesLazy.cublas.value : 0) + (usesConv ? device.librariesLazy.cudnn.value : 0);
  const context = eagerLoading ? device.contextEager.value : device.contextLazy.value;
  return { context, runtimeOverhead: context + libraries };
}

/**
 * The warning when `bytes` (what the process holds at its largest) exceed the device's capacity: PyTorch raises
 * "CUDA out of memory" there. `lead` says whose bytes they are; undefined when they fit or the capacity is unknown.
 */
export function outOfMemory(device: Device, bytes: number, lead = "needs"): string | undefined {
  const capacity = device.capacity.value;
  if (capacity === null || bytes <= capacity) return undefined;
  return `${lead} ${gib(bytes)} but the ${device.name} has ${gib(capacity)}: PyTorch would raise "CUDA out of memory"`;
}

/** Said whenever the device's context and kernel sizes were carried over from another card. */
export function assumedDeviceWarning(device: Device): string | undefined {
  return device.contextLazy.source === "assumed" ? `CUDA context and kernel sizes for ${device.id} are assumed, not measured: ${device.contextLazy.note}` : undefined;
}

