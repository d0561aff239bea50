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
import { isFloat } from "../../graph/dtype.js";
import { autocastProgram } from "./autocast.js";
import { convBackwardWorkspace } from "./backward-workspace.js";
import { elementCount } from "../../graph/element-count.js";

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
  // Autocast decides per op which activations are half, so the program is mapped in fp32 first.
  const fp32Program = eagerProgram(model, inference, { training: true });
  const params = trainParams(model, fp32Program, {
    ...(opts.loraRank !== undefined ? { loraRank: opts.loraRank } : {}),
    ...(opts.qlora ? { qlora: true } : {}),
  });
  const paramOps = new Set(params.map((p) => p.op));
  const isFloatValue = (id: string): boolean => {
    const t = inference.values.get(id.split("#")[0]!)?.dtype;
    return t !== undefined && isFloat(t);
  };
  // An op reads an fp32 parameter when a node of it takes a float tensor computed off the device from
  // initializers (ViT's class token, expanded to the batch) or one of its parameters.
  const deviceValues = new Set(fp32Program.ops.flatMap((op) => (op.nodes ?? []).flatMap((n) => n.outputs)));
  const graphInputs = new Set(model.graph.inputs.map((v) => v.name));
  const hostFloat = (name: string): boolean => {
    if (name === "" || deviceValues.has(name) || graphInputs.has(name) || !isFloatValue(name)) return false;
    const shape = inference.values.get(name)?.shape;
    return shape !== undefined && shape.length > 0 && !shape.every((d) => d === 1);
  };
  const readsFp32 = (i: number): boolean => paramOps.has(i) || (fp32Program.ops[i]!.nodes ?? []).some((n) => n.inputs.some(hostFloat));
  const amp = half ? autocastProgram(fp32Program, isFloatValue, readsFp32) : undefined;
  const program = amp?.program ?? fp32Program;
  const cublasWorkspace = cublasWorkspaceBytes(opts.computeCapability);
  const out = model.graph.outputs[0] ? inference.values.get(model.graph.outputs[0].name)?.shape : undefined;
  const outputElements = out?.every((d) => typeof d === "number") ? elementCount(out as number[]) : undefined;
  const infos = inference.values;
  const sim = simulateTraining(program, {
    optimizer,
    params,
    ...(half && amp ? { activationDType: half, mixedPrecision: true, castReads: amp.castReads } : {}),
    ...(opts.checkpointing ? { checkpointing: true } : {}),
    workspace: (i) => {
      let ws = 0;
      for (const c of program.ops[i]!.convs) ws = Math.max(ws, convWorkspace(c, infos, { dtype: half }));
      return ws;
    },
    backwardWorkspace: (i) => {
      let ws = 0;
      for (const c of program.ops[i]!.convs) ws = Math.max(ws, convBackwardWorkspace(c, infos, convWorkspace(c, infos, { dtype: half }), half));
      return ws;
    },
    cublasWorkspace,
    backwardCublas: !opts.backwardCublasAllocated,
    batch: opts.batch,
    ...(outputElements !== undefined ? { outputElements } : {}),
    ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
  });
  return { program, params, sim, optimizer, cublasWorkspace };
}
