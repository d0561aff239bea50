/**
 * `--mode train` for the pytorch-cuda profile: the training estimate (estimate.ts) as the report's memory
 * fields, and, with several GPUs or a sharding strategy, the per-GPU model states (../distributed.ts)
 * replacing the single-GPU ones. `peakAllocated` is the peak of one steady step (optimizer state allocated).
 */
import type { MemoryInput, MemoryResult } from "../profile.js";
import type { Device } from "../devices.js";
import { assumedDeviceWarning, cudaRuntime, outOfMemory } from "../torch/cuda-device.js";
import { distributedMemory, parseStrategy, type Offload } from "../distributed.js";
import { estimateTraining, type TrainEstimate } from "./estimate.js";

/** Training settings from the CLI (analyze/fit): all optional. */
export interface TrainSettings {
  checkpointing?: boolean;
  loraRank?: number;
  qlora?: boolean;
  zero?: string;
  fsdp?: string;
  gpus?: number;
  gpusPerNode?: number;
  tp?: number;
  offload?: Offload;
}

export function trainMemory(input: MemoryInput, device: Device): MemoryResult {
  const s = input.settings;
  const train = s.train ?? {};
  const cc = device.computeCapability.value ?? 9;
  const e = estimateTraining(input.model, input.inference, {
    ...(s.optimizer !== undefined ? { optimizer: s.optimizer } : {}),
    dtype: s.dtype,
    batch: s.batch,
    computeCapability: cc,
    ...(train.checkpointing ? { checkpointing: true } : {}),
    ...(train.loraRank !== undefined ? { loraRank: train.loraRank } : {}),
    ...(train.qlora ? { qlora: true } : {}),
  });
  const usesCublas = e.cublasWorkspace > 0 && e.program.ops.some((op) => op.usesCublas);
  const runtime = cudaRuntime(device, e.program, usesCublas, s.cudaModuleLoading);
  return trainingResult(e, { dtype: s.dtype, batch: s.batch }, train, { device, ...runtime });
}

/** The device a training step runs on and what the CUDA runtime holds there outside the allocator. */
export interface TrainRuntime {
  device: Device;
  runtimeOverhead: number;
  /** The part of runtimeOverhead that is the CUDA context itself. */
  context: number;
}

/**
 * A simulated training step (from an ONNX graph or an LLM's architecture) as the report's memory fields,
 * with the per-GPU model states when the training is spread over several GPUs.
 */
export function trainingResult(e: TrainEstimate, s: { dtype: string; batch: number }, train: TrainSettings, runtime: TrainRuntime): MemoryResult {
  const { sim, program } = e;
  const { device, runtimeOverhead, context } = runtime;
  const warnings = [...program.warnings, ...sim.warnings];
  const gpus = train.gpus ?? 1;
  const strategy = parseStrategy(train.zero, train.fsdp, gpus);
  let peakAllocated = sim.peakAllocated;
  let reserved = sim.reservedAtEnd;
  let distributed: unknown;
  if (strategy !== "single" || (train.tp ?? 1) > 1) {
    const sum = (ps: typeof e.params, f: (p: (typeof e.params)[number]) => number): number => ps.reduce((a, p) => a + f(p), 0);
    // Parameters per op: ZeRO-3 and FSDP gather one layer's at a time.
    const perOp = new Map<number, number>();
    for (const p of e.params) if (p.what !== "buffer") perOp.set(p.op, (perOp.get(p.op) ?? 0) + p.elements);
    let largestLayer = 0;
    for (const v of perOp.values()) largestLayer = Math.max(largestLayer, v);
    const frozen = e.params.filter((p) => !p.trainable && p.what !== "buffer");
    const frozenElements = sum(frozen, (p) => p.elements);
    const d = distributedMemory({
      trainableParams: sum(e.params.filter((p) => p.trainable), (p) => p.elements),
      frozenParams: frozenElements,
      // As stored: fp32, or QLoRA's packed 4-bit base.
      bytesPerFrozen: frozenElements > 0 ? sum(frozen, (p) => p.bytes) / frozenElements : 4,
      largestLayerParams: largestLayer,
      optimizer: e.optimizer,
      mixedPrecision: s.dtype === "fp16" || s.dtype === "bf16",
      strategy,
      gpus,
      ...(train.gpusPerNode !== undefined ? { gpusPerNode: train.gpusPerNode } : {}),
      ...(train.tp !== undefined ? { tp: train.tp } : {}),
      ...(train.offload !== undefined ? { offload: train.offload } : {}),
    });
    // The single-GPU peak with its own model states swapped for the per-GPU ones (activations unchanged:
    // each GPU runs the given batch; tensor parallelism's split activations are not modelled, an upper bound).
    // Buffers (BatchNorm running statistics) are replicated on every GPU under every strategy.
    const buffers = e.params.filter((p) => p.what === "buffer").reduce((a, p) => a + p.bytes, 0);
    const single = sim.paramBytes + sim.gradientBytes + sim.optimizerStateBytes;
    peakAllocated = Math.max(0, sim.peakAllocated - single + d.total + buffers);
    // The allocator's segments shrink or grow by the same bytes (model states are large, long-lived blocks).
    reserved = Math.max(0, sim.reservedAtEnd - single + d.total + buffers);
    distributed = { strategy, gpus, tp: train.tp ?? 1, ...d };
    warnings.push(`${strategy} on ${gpus} GPUs: per-GPU model states from docs/distributed.md; activations as on one GPU at batch ${s.batch} per GPU`);
    warnings.push(...d.notes);
  }
  const total = runtimeOverhead + reserved;
  // The step's own peak against the device: the largest reservation (shifted by the per-GPU model states when
  // sharded, as `reserved` is) plus the CUDA runtime.
  const peak = runtimeOverhead + Math.max(reserved, sim.peakReserved + reserved - sim.reservedAtEnd);
  const oom = outOfMemory(device, peak, "the training step peaks at");
  if (oom) warnings.push(oom);
  const assumed = assumedDeviceWarning(device);
  if (assumed) warnings.push(assumed);
  return {
    memory: {
      weights: sim.paramBytes,
      inputs: program.inputBytes,
      outputs: program.outputBytes,
      activationPeak: sim.peakDelta - sim.optimizerStateBytes,
      workspace: e.cublasWorkspace,
      peakAllocated,
      peakReserved: sim.peakReserved,
      runtimeOverhead,
      cudaContext: context,
      total,
      ...(program.parameters ? { eagerParameters: program.parameters.elements, foldedBatchNorms: program.parameters.foldedBatchNorms } : {}),
      peakAt: { layer: sim.peakAt.phase === "forward" ? sim.peakAt.layer : `${sim.peakAt.phase}: ${sim.peakAt.layer}`, live: [] },
      perBatch: { formula: "training: re-run with another --batch (activations scale with it, model states do not)" },
      training: {
        optimizer: e.optimizer,
        parameters: sim.paramBytes,
        trainable: sim.trainableBytes,
        gradients: sim.gradientBytes,
        optimizerState: sim.optimizerStateBytes,
        stepTemporaries: sim.stepTemporaryBytes,
        peakDelta: sim.peakDelta,
        afterForward: sim.afterForward,
        afterBackward: sim.afterBackward,
        afterStep: sim.afterStep,
        checkpointing: train.checkpointing ?? false,
        ...(train.loraRank !== undefined ? { loraRank: train.loraRank, qlora: train.qlora ?? false } : {}),
      },
      ...(distributed !== undefined ? { distributed } : {}),
    },
    // Live bytes over the weights, input and optimizer state (as activationPeak): activations and gradients.
    timeline: sim.timeline.map((t) => ({ layer: t.phase === "forward" ? t.layer : `${t.phase}: ${t.layer}`, liveBytes: Math.max(0, t.liveBytes - sim.optimizerStateBytes) })),
    warnings,
  };
}
