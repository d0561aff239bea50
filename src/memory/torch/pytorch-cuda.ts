/**
 * The `pytorch-cuda` runtime profile: eager PyTorch on a CUDA GPU. The graph is mapped back to the aten ops
 * eager runs (eager.ts), those run through the caching allocator (simulate.ts) with the cuDNN and cuBLAS
 * workspaces, and the CUDA context and library kernels come from the device table.
 */
import { parseDType, type DType } from "../../graph/dtype.js";
import { UsageError } from "../../errors.js";
import { cublasWorkspaceBytes, type Device } from "../devices.js";
import { assumedDeviceWarning, cudaRuntime, outOfMemory, torchDevice } from "./cuda-device.js";
import type { MemoryInput, MemoryResult, RuntimeProfile } from "../profile.js";
import { RUNTIME_SPECS } from "../runtime-table.js";
import { convWorkspace } from "./cudnn.js";
import { benchmarkKey, trialWorkspace } from "./cudnn-benchmark.js";
import { convCall } from "./conv-call.js";
import { roundSize, segmentSize } from "./caching-allocator.js";
import { eagerProgram, type EagerProgram } from "./eager.js";
import { simulate, type SimulationResult } from "./simulate.js";
import { trainMemory } from "../train/report.js";

/**
 * A persistent 1 MiB block (small pool) that comes with the first cuBLAS use. Measured: every run in
 * bench/groundtruth/h200-torch2.11.json holds exactly 1 MiB more in the small pool than the simulation
 * without it, and each fresh-process seed row's max_memory_allocated about 1 MiB more. Most likely the cuBLASLt
 * workspace (PyTorch's CUBLASLT_WORKSPACE_SIZE, in KiB, 1024 by default). With it the reserved median went from
 * 0.8% to 0.1% and the seed rows' peakAllocated median from 1.9% to 0.04%, passing bench/accuracy-lomo.ts.
 */
const CUBLASLT_WORKSPACE = 1 << 20;

export interface TorchEstimate {
  program: EagerProgram;
  sim: SimulationResult;
  device: Device;
  weights: number;
  cublasWorkspace: number;
  runtimeOverhead: number;
  /** The part of runtimeOverhead that is the CUDA context itself (the rest: library kernels). */
  context: number;
  total: number;
}

/** Casts a model's float tensors to `--dtype` (model.to(dtype)); int8 is not an eager cast. */
export function castFor(dtype: string): DType | undefined {
  if (dtype === "fp32") return undefined;
  if (dtype === "fp16" || dtype === "bf16") return parseDType(dtype);
  throw new UsageError(`--dtype ${dtype}: pytorch-cuda runs fp32, fp16 or bf16 (quantized models: see 'memlens quantize')`);
}

export function estimateTorch(input: MemoryInput): TorchEstimate {
  const { settings } = input;
  const device = torchDevice(settings.device);
  const cast = castFor(settings.dtype);
  const program = eagerProgram(input.model, input.inference, cast ? { dtype: cast } : {});
  const cc = device.computeCapability.value!;
  const cublasWorkspace = cublasWorkspaceBytes(cc);
  const benchmark = settings.cudnnBenchmark ?? false;
  const infos = input.inference.values;
  const benchmarked = new Set<string>();
  let largestTrial = { bytes: 0, lowerBound: false, conv: "" };
  const sim = simulate(program, {
    cublasWorkspace,
    cublasLtWorkspace: CUBLASLT_WORKSPACE,
    cublasFirst: settings.cublasFirst ?? false,
    workspace: (i) => {
      let ws = 0;
      for (const c of program.ops[i]!.convs) ws = Math.max(ws, convWorkspace(c, infos, { dtype: cast }));
      return ws;
    },
    // cudnn.benchmark: a configuration not seen before is timed (undefined: nothing new at this op).
    ...(benchmark ? { benchmarkTrial: (i: number): number | undefined => {
      let ws: number | undefined;
      for (const c of program.ops[i]!.convs) {
        const call = convCall(c, infos, cast);
        if (!call) {
          program.warnings.push(`cudnn.benchmark: ${c.name || c.outputs[0]}'s shapes are not concrete 1-D/2-D convolution shapes; its trial workspace is not counted`);
          continue;
        }
        const key = benchmarkKey(call);
        if (benchmarked.has(key)) continue;
        benchmarked.add(key);
        const trial = trialWorkspace(call, device.capacity.value ?? Number.POSITIVE_INFINITY);
        if (trial.bytes > largestTrial.bytes) largestTrial = { bytes: trial.bytes, lowerBound: trial.lowerBound, conv: c.name || c.outputs[0] || "" };
        ws = Math.max(ws ?? 0, trial.bytes);
      }
      return ws;
    } } : {}),
  });
  if (largestTrial.lowerBound) {
    program.warnings.push(`cudnn.benchmark: the largest trial workspace (${largestTrial.conv}) has no FFT plan (strided, grouped or not fp32); its size is a lower bound (the channels-last transform), larger plans may be timed`);
  }
  const { context, runtimeOverhead } = cudaRuntime(device, program, sim.usesCublas, settings.cudaModuleLoading);
  const weights = program.weights.reduce((a, b) => a + b, 0);
  const total = runtimeOverhead + sim.reservedAtEnd;
  const oom = outOfMemory(device, total);
  if (oom) program.warnings.push(oom);
  return { program, sim, device, weights, cublasWorkspace: sim.usesCublas ? cublasWorkspace : 0, runtimeOverhead, context, total };
}

/**
 * total ~ fixed + perSample x batch. Everything the allocator holds beyond the segments of the cuBLAS workspace
 * and the weights (input, activations, their segments) is taken to grow with the batch, as it does when the
 * batch is the leading dimension of every activation; the context, kernels, weights and workspace do not.
 */
function perBatch(e: TorchEstimate, batch: number, cublasFirst: boolean): { fixed: number; perSample: number } {
  // In a fresh process the first GEMM allocates the cuBLAS and cuBLASLt workspaces inside the forward: their
  // segments are still fixed, not per sample.
  const cublasSegments = cublasFirst || e.cublasWorkspace === 0 ? 0 : segmentSize(roundSize(e.cublasWorkspace)) + segmentSize(roundSize(CUBLASLT_WORKSPACE));
  const growing = Math.max(0, e.sim.reservedAtEnd - e.sim.weightsReserved - cublasSegments);
  const perSample = Math.round(growing / Math.max(1, batch));
  return { fixed: e.total - perSample * batch, perSample };
}

export const pytorchCuda: RuntimeProfile = {
  ...RUNTIME_SPECS["pytorch-cuda"],
  estimate(input: MemoryInput): MemoryResult {
    // Training is its own simulation (src/memory/train): the inference forward is not run at all.
    if (input.settings.mode === "train") return trainMemory(input, torchDevice(input.settings.device));
    const e = estimateTorch(input);
    const { sim, program } = e;
    const warnings = [...program.warnings];
    const assumed = assumedDeviceWarning(e.device);
    if (assumed) warnings.push(assumed);
    const peakStep = sim.liveness.peakStep;
    const peakOp = peakStep >= 0 ? program.ops[peakStep] : undefined;
    return {
      memory: {
        weights: e.weights,
        inputs: program.inputBytes,
        outputs: program.outputBytes,
        activationPeak: sim.activationPeak,
        workspace: e.cublasWorkspace + sim.maxWorkspace,
        peakAllocated: sim.peakAllocated,
        peakReserved: sim.peakReserved,
        runtimeOverhead: e.runtimeOverhead,
        cudaContext: e.context,
        total: e.total,
        // The module as eager PyTorch holds it: the report names its parameter count beside the file's.
        ...(program.parameters ? { eagerParameters: program.parameters.elements, foldedBatchNorms: program.parameters.foldedBatchNorms } : {}),
        peakAt: { layer: peakOp?.layer ?? "", live: sim.liveness.liveAtPeak },
        perBatch: perBatch(e, input.settings.batch, input.settings.cublasFirst ?? false),
      },
      timeline: program.ops.map((op, i) => ({ layer: op.layer, liveBytes: sim.liveness.timeline[i] ?? 0 })),
      warnings,
    };
  },
};
