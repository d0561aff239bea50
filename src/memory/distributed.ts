/**
 * Per-GPU memory of model states (parameters, gradients, master weights, optimizer state) when training is
 * spread over several GPUs: DDP, DeepSpeed ZeRO-1/2/3 (optionally offloading to the CPU), PyTorch FSDP
 * (full shard, hybrid shard) and a tensor-parallel degree. Pure arithmetic over parameter counts; the
 * formulas and their sources are in docs/distributed.md. Activations are per micro-batch and come from the
 * single-GPU model (src/memory/train) at the per-GPU batch.
 */
import { UsageError } from "../errors.js";
import { statesPerParam, type OptimizerKind } from "./train/optimizer.js";

export type Strategy = "single" | "ddp" | "zero1" | "zero2" | "zero3" | "fsdp-full" | "fsdp-hybrid";
export type Offload = "none" | "optimizer" | "optimizer+params";

export interface DistributedInput {
  /** Trainable parameters (LoRA: the adapters only). */
  trainableParams: number;
  /** Frozen parameters (LoRA's base), held as bytesPerFrozen each, never sharded by the optimizer. */
  frozenParams?: number;
  bytesPerFrozen?: number;
  /** Parameters of the largest layer (ZeRO-3/FSDP gather one layer at a time, and prefetch the next). */
  largestLayerParams?: number;
  optimizer: OptimizerKind;
  /** Training precision: fp32, or mixed (fp16/bf16 compute with fp32 master weights). */
  mixedPrecision: boolean;
  strategy: Strategy;
  /** GPUs in all. */
  gpus: number;
  /** GPUs per node (FSDP hybrid shards within a node). */
  gpusPerNode?: number;
  /** Tensor-parallel degree: each GPU holds 1/tp of every parameter; data-parallel size is gpus/tp. */
  tp?: number;
  offload?: Offload;
}

export interface DistributedResult {
  /** Data-parallel ranks a ZeRO/FSDP shard is spread over. */
  shardGroup: number;
  /** Bytes per GPU. */
  params: number;
  gradients: number;
  masterWeights: number;
  optimizerState: number;
  /** DDP's gradient buckets; ZeRO-3/FSDP's gathered layers (current and prefetched). */
  buffers: number;
  total: number;
  /** What the CPU holds per node when offloading (as DeepSpeed's estimator counts it, without its 1.5x margin). */
  cpu: number;
  notes: string[];
}

export function parseStrategy(zero: string | undefined, fsdp: string | undefined, gpus: number): Strategy {
  if (zero !== undefined && fsdp !== undefined) throw new UsageError("--zero and --fsdp are two different sharding strategies: give one");
  if (zero !== undefined) {
    if (zero === "1" || zero === "2" || zero === "3") return `zero${zero}` as Strategy;
    throw new UsageError(`--zero ${zero}: expected 1, 2 or 3`);
  }
  if (fsdp !== undefined) {
    if (fsdp === "full" || fsdp === "hybrid") return `fsdp-${fsdp}` as Strategy;
    throw new UsageError(`--fsdp ${fsdp}: expected full or hybrid`);
  }
  return gpus > 1 ? "ddp" : "single";
}

export function distributedMemory(input: DistributedInput): DistributedResult {
  const tp = input.tp ?? 1;
  if (!Number.isInteger(input.gpus) || input.gpus < 1) throw new UsageError(`--gpus ${input.gpus}: a positive integer`);
  if (!Number.isInteger(tp) || tp < 1 || input.gpus % tp !== 0) throw new UsageError(`--tp ${tp}: must divide --gpus ${input.gpus}`);
  const dp = input.gpus / tp;
  const perNode = Math.min(input.gpusPerNode ?? input.gpus, input.gpus);
  const P = input.trainableParams / tp;
  const frozen = ((input.frozenParams ?? 0) / tp) * (input.bytesPerFrozen ?? (input.mixedPrecision ? 2 : 4));
  const L = (input.largestLayerParams ?? 0) / tp;
  const offload = input.offload ?? "none";
  const notes: string[] = [];
  // Bytes per parameter: working weights, their gradients, fp32 master copy, optimizer state, and the fp32
  // gradient partition DeepSpeed's optimizer steps on under mixed precision.
  const w = input.mixedPrecision ? 2 : 4;
  const g = w;
  const m = input.mixedPrecision ? 4 : 0;
  const o = 4 * statesPerParam(input.optimizer);
  const g32 = input.mixedPrecision ? 4 : 0;
  const r: DistributedResult = { shardGroup: 1, params: 0, gradients: 0, masterWeights: 0, optimizerState: 0, buffers: 0, total: 0, cpu: 0, notes };
  const shard = (bytesPerParam: number, n: number): number => Math.floor((bytesPerParam * P) / n);
  switch (input.strategy) {
    case "single":
    case "ddp":
      r.params = w * P;
      r.gradients = g * P;
      r.masterWeights = m * P;
      r.optimizerState = o * P;
      if (input.strategy === "ddp") {
        // The reducer's flat buckets hold a second copy of every gradient (gradient_as_bucket_view=False).
        r.buffers = g * P;
        notes.push("DDP: gradient buckets copy every gradient (pass gradient_as_bucket_view=True to share them)");
      }
      break;
    case "zero1":
    case "zero2":
      r.shardGroup = dp;
      r.params = w * P;
      // Stage 1 all-reduces full gradients; stage 2 reduce-scatters them and keeps only its partition, but
      // its estimator (like stage 1's) still counts the full half-precision gradients the backward produces.
      r.gradients = input.strategy === "zero1" ? g * P : g * P;
      if (offload === "none") {
        r.masterWeights = shard(m, dp);
        r.optimizerState = shard(m + o + g32, dp) - r.masterWeights;
      } else {
        r.gradients = 0;
        r.cpu = P * Math.max(4 * input.gpus, m + o + g32);
        notes.push("optimizer offloaded: gradients go to pinned CPU memory as they are reduced");
      }
      break;
    case "zero3":
      r.shardGroup = dp;
      // Two layers' half-precision parameters gathered at a time (the one running and the one prefetched).
      r.buffers = 2 * w * L;
      if (offload === "none") {
        r.params = shard(w, dp);
        r.masterWeights = shard(m, dp);
        r.optimizerState = shard(w + m + o + g32, dp) - r.params - r.masterWeights;
      } else if (offload === "optimizer") {
        r.params = shard(w, dp);
        r.cpu = P * (m + o + g32) / (input.gpus / perNode);
      } else {
        r.cpu = P * (w + m + o + g32) / (input.gpus / perNode);
      }
      break;
    case "fsdp-full":
    case "fsdp-hybrid": {
      const n = input.strategy === "fsdp-full" ? dp : Math.max(1, Math.min(dp, perNode / tp));
      r.shardGroup = n;
      // FSDP shards the fp32 parameters themselves (they are the master copy); MixedPrecision casts the
      // gathered unit to half. Gradients are reduce-scattered to a shard of the parameter dtype.
      r.params = shard(4, n);
      r.gradients = shard(4, n);
      r.optimizerState = shard(o, n);
      r.buffers = 2 * w * L + g * L;
      if (offload !== "none") notes.push("FSDP CPU offload is not modelled: numbers are for parameters on the GPU");
      break;
    }
  }
  r.params += frozen;
  r.total = r.params + r.gradients + r.masterWeights + r.optimizerState + r.buffers;
  if (tp > 1) notes.push(`tensor parallel ${tp}: every parameter split ${tp} ways (embeddings and norms too: a slight underestimate)`);
  return r;
}
