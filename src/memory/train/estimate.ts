/**
 * `--mode train` on the pytorch-cuda profile: the eager mapping of the graph (torch/eager.ts), its parameters
 * (params.ts) and a simulated training loop (step.ts), turned into the report's memory fields. In the
 * report, `peakAllocated` is the peak of one steady step (optimizer state already allocated).
 */
import type { DType } from "../../graph/dtype.js";
import type { Model } from "../../graph/ir.js";
import type { InferenceResult } from "../../shapes/engine.js";
import { cublasWorkspaceBytes } from "../devices.js";
import { convWorkspace } from "../torch/cudnn.js";
import { eagerProgram, type EagerProgram } from "../torch/eager.js";
import { parseOptimizer, type OptimizerKind } from "./optimizer.js";
import { trainParams, type TrainParam } from "./params.js";
import { simulateTraining, type TrainSimResult } from "./step.js";
import { UsageError } from "../../errors.js";

export interface TrainOptions {
  optimizer?: string;
  /** fp32 (default), or fp16/bf16: automatic mixed precision with fp32 master weights. */
  dtype?: string;
  checkpointing?: boolean;
  loraRank?: number;
  qlora?: boolean;
  batch: number;
  /** Compute capability (major) of the device, for the cuBLAS workspace size. */
  computeCapability: number;
  /** The measuring process had already run a backward (its autograd thread's cuBLAS workspace exists). */
  backwardCublasAllocated?: boolean;
  capacity?: number;
}

export interface TrainEstimate {
  program: EagerProgram;
  params: TrainParam[];
  sim: TrainSimResult;
  optimizer: OptimizerKind;
  cublasWorkspace: number;
}

export function halfType(dtype: string | undefined): DType | undefined {
  if (dtype === undefined || dtype === "fp32") return undefined;
  if (dtype === "fp16") return "float16";
  if (dtype === "bf16") return "bfloat16";
  throw new UsageError(`--dtype ${dtype}: training runs fp32, or fp16/bf16 mixed precision (fp32 master weights)`);
}

export function estimateTraining(model: Model, inference: InferenceResult, opts: TrainOptions): TrainEstimate {
  const half = halfType(opts.dtype);
  const optimizer = parseOptimizer(opts.optimizer);
  if (opts.qlora && !(opts.loraRank !== undefined && opts.loraRank > 0)) throw new UsageError("--qlora needs --lora-rank R");
  const program = eagerProgram(model, inference, half ? { dtype: half } : {});
  const params = trainParams(model, program, {
    ...(opts.loraRank !== undefined ? { loraRank: opts.loraRank } : {}),
    ...(opts.qlora ? { qlora: true } : {}),
  });
  const cublasWorkspace = cublasWorkspaceBytes(opts.computeCapability);
  const infos = inference.values;
  const sim = simulateTraining(program, {
    optimizer,
    params,
    ...(half ? { activationDType: half, mixedPrecision: true } : {}),
    ...(opts.checkpointing ? { checkpointing: true } : {}),
    workspace: (i) => {
      let ws = 0;
      for (const c of program.ops[i]!.convs) ws = Math.max(ws, convWorkspace(c, infos, { dtype: half }));
      return ws;
    },
    cublasWorkspace,
    backwardCublas: !opts.backwardCublasAllocated,
    batch: opts.batch,
    ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
  });
  return { program, params, sim, optimizer, cublasWorkspace };
}
