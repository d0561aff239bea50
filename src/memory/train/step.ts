/**
 * One training loop, simulated through the caching allocator the way a user's script runs it:
 *   opt.zero_grad(set_to_none=True); out = model(x); loss = cross_entropy(out, y); loss.backward(); opt.step()
 * three times (the optimizer state appears in the first step; the second and third are the steady state).
 * - Forward: the eager ops of src/memory/torch/eager.ts, but every tensor an op saves for backward
 *   (rules.ts) stays alive until that op's backward has run.
 * - Backward, in reverse order: each op consumes the gradient of its result, allocates one for each input
 *   that requires grad (an add, a concat or a view passes it on instead), its parameters' gradients (kept:
 *   AccumulateGrad steals the buffer) and, for convolutions, the cuDNN workspace; then its saved tensors and
 *   the consumed gradient are freed. A gradient reaching a tensor a second time is added in place.
 * - Step: optimizer state (optimizer.ts), created lazily in the first step, and the foreach temporaries.
 * Gradient checkpointing keeps only each block's inputs in the forward and re-runs the block's forward
 * just before its backward.
 */
import type { DType } from "../../graph/dtype.js";
import { byteSize } from "../../graph/dtype.js";
import { CachingAllocator } from "../torch/caching-allocator.js";
import type { EagerOp, EagerProgram } from "../torch/eager.js";
import { stepTemporariesPerParam, statesPerParam, type OptimizerKind } from "./optimizer.js";
import type { TrainParam } from "./params.js";
import { blockModules, checkpointBlocks } from "./checkpoint.js";
import { fuseSpelledAttention, isAliasBackward, savedFor, type SavedPlan } from "./rules.js";

export interface TrainSimOptions {
  optimizer: OptimizerKind;
  params: TrainParam[];
  /** Activation element type (the --dtype cast; fp32 when absent). */
  activationDType?: DType;
  /** Automatic mixed precision: fp32 parameters, a half copy of each conv/linear weight saved for backward. */
  mixedPrecision?: boolean;
  /** Autocast's cast copies (autocast.ts), per op: storage read -> the copy the op saves instead. */
  castReads?: Map<string, string>[];
  checkpointing?: boolean;
  /** cuDNN workspace of op i's convolution (forward). */
  workspace: (opIndex: number) => number;
  /** Its backward's, each of the data- and weight-gradient calls (backward-workspace.ts); the forward's when absent. */
  backwardWorkspace?: (opIndex: number) => number;
  cublasWorkspace: number;
  /** The autograd thread's own cuBLAS handle gets a workspace at the first backward matmul (fresh process). */
  backwardCublas?: boolean;
  /** Elements of the logits (the graph's output); from its bytes and the activation type when absent. */
  outputElements?: number;
  /** Rows of the target tensor (int64 class indices), the batch. */
  batch: number;
  steps?: number;
  capacity?: number;
}

export type Phase = "forward" | "backward" | "step";

export interface TrainTimelinePoint {
  phase: Phase;
  layer: string;
  liveBytes: number;
}

export interface TrainSimResult {
  /** Peak allocated during the last step minus what was allocated before the first (peak_delta_N). */
  peakDelta: number;
  /** Absolute peak allocated during the last step (max_memory_allocated, weights and input included). */
  peakAllocated: number;
  peakReserved: number;
  reservedAtEnd: number;
  /** Allocated after each phase of the last step, relative to before the first step. */
  afterForward: number;
  afterBackward: number;
  afterStep: number;
  /** Allocated before the first step: weights, buffers, input, target, the forward cuBLAS workspace. */
  base: number;
  paramBytes: number;
  trainableBytes: number;
  gradientBytes: number;
  optimizerStateBytes: number;
  /** Largest foreach temporary list of the step. */
  stepTemporaryBytes: number;
  /** Live bytes after each forward op, each backward op and the step, during the last step. */
  timeline: TrainTimelinePoint[];
  peakAt: { phase: Phase; layer: string };
  /** The last step's allocations and frees, in order. */
  events: AllocEvent[];
  warnings: string[];
}

/** An allocation or free of the last step, in order (requested bytes; frees give the block's size). */
export type AllocEvent = ["alloc" | "free", number];

/** The caching allocator, recording what the last step asks of it (to compare with a measured trace). */
class RecordingAllocator extends CachingAllocator {
  events: AllocEvent[] | undefined;
  override malloc(bytes: number): number {
    const at = super.malloc(bytes);
    this.events?.push(["alloc", bytes]);
    return at;
  }
  override free(addr: number): void {
    const size = this.blockSize(addr) ?? 0;
    super.free(addr);
    this.events?.push(["free", size]);
  }
}

interface Storage {
  addr: number;
  holds: number;
}

export function simulateTraining(prog: EagerProgram, opts: TrainSimOptions): TrainSimResult {
  const alloc = new RecordingAllocator(opts.capacity);
  const warnings: string[] = [];
  const elementBytes = byteSize(opts.activationDType ?? "float32", 1);
  const ops = prog.ops;
  const n = ops.length;

  // Sizes of every storage the forward allocates.
  const bytesOf = new Map<string, number>();
  for (const op of ops) for (const a of op.allocs) bytesOf.set(a.id, a.bytes);
  const outputsOf = (op: EagerOp): string[] => {
    const own = op.allocs.filter((a) => !a.transient && a.what !== "copy").map((a) => a.id);
    return own.length > 0 ? own : op.reads.slice(0, 1);
  };

  // requires_grad: a result needs a gradient when its op has a trainable parameter or reads one that does.
  const trainableAt = new Set(opts.params.filter((p) => p.trainable).map((p) => p.op));
  // Parameters by op, and the op that makes each storage (lookups inside the per-op loops).
  const paramsOf: TrainParam[][] = ops.map(() => []);
  for (const p of opts.params) paramsOf[p.op]?.push(p);
  const madeBy = new Map<string, number>();
  ops.forEach((op, i) => op.allocs.forEach((a) => !a.transient && !madeBy.has(a.id) && madeBy.set(a.id, i)));
  const needsGrad = new Set<string>();
  const runsBackward: boolean[] = ops.map((op, i) => {
    const yes = trainableAt.has(i) || op.reads.some((r) => needsGrad.has(r));
    if (yes) for (const o of outputsOf(op)) needsGrad.add(o);
    return yes;
  });
  const channelsOf = (i: number): number | undefined => paramsOf[i]!.find((p) => p.what === "bn")?.elements;
  const plans: SavedPlan[] = ops.map((op, i) => {
    const outs = outputsOf(op);
    const outBytes = outs.reduce((s, o) => s + (bytesOf.get(o) ?? 0), 0);
    if (!runsBackward[i]) return { storages: [], extra: [], keepFoldedConv: false, unknown: [] };
    // A Linear left frozen (LoRA's untargeted layers): one activation operand, every parameter frozen.
    const frozenWeight = op.reads.length === 1 && paramsOf[i]!.some((p) => p.what === "weight") && paramsOf[i]!.every((p) => !p.trainable);
    const plan = savedFor(op, outs, outBytes, elementBytes, channelsOf(i), frozenWeight);
    const casts = opts.castReads?.[i];
    // Under autocast an op saves the cast copy it computed with, not the tensor it was given.
    return casts && casts.size > 0 ? { ...plan, storages: plan.storages.map((r) => casts.get(r) ?? r) } : plan;
  });
  const fused = fuseSpelledAttention(ops, plans, outputsOf);
  if (fused > 0) warnings.push(`training: ${fused} attention(s) spelled as MatMul, Softmax, MatMul taken as scaled_dot_product_attention calls (PyTorch 2's nn.MultiheadAttention and transformers' default): their score matrices are not saved for backward`);
  // Transformers drop out after attention and MLP in training; an eval-mode export has no Dropout nodes left.
  const spelled = (t: string): boolean => ops.some((op) => op.opTypes.includes(t));
  if (spelled("Softmax") && !spelled("Dropout")) {
    warnings.push("training: the graph has attention but no Dropout nodes (an eval-mode export drops them): if the model trains with dropout (transformers' hidden_dropout_prob), each dropout's output and one-byte mask per element are not counted");
  }
  const unknown = new Set(plans.flatMap((p) => p.unknown));
  if (unknown.size > 0) warnings.push(`training: no saved-tensor rule for ${[...unknown].join(", ")}: their inputs are assumed saved for backward`);
  if (prog.ops.some((op) => op.nodes === undefined)) warnings.push("training: eager ops without their nodes: parameters unknown");

  // Half copies of conv/linear weights under autocast, saved by the op for its backward. A 4-bit weight is
  // dequantized again in backward (bitsandbytes' MatMul4Bit keeps only the packed weight).
  const halfCopies: number[][] = ops.map((_, i) => opts.mixedPrecision
    ? paramsOf[i]!.filter((p) => p.what === "weight" && !p.quantized).map((p) => byteSize("float16", p.elements))
    : []);

  // Gradient checkpointing: blocks of ops; in the forward a block keeps only what it reads from outside.
  const savedBytes = plans.map((p) => p.storages.reduce((s, id) => s + (bytesOf.get(id) ?? 0), 0) + p.extra.reduce((s, b) => s + b, 0));
  const block = opts.checkpointing ? checkpointBlocks(ops, savedBytes, (id) => bytesOf.get(id) ?? 0) : ops.map(() => -1);
  if (opts.checkpointing) {
    // Which modules are wrapped, so a user can see whether they are the ones their script checkpoints.
    const modules = blockModules(ops, block).map((m) => m.split("/").pop() ?? m);
    if (modules.length === 0) warnings.push("training: --checkpointing found no module of 3 or more ops (the graph has no module paths): nothing is checkpointed");
    else warnings.push(`training: checkpointing ${modules.length} blocks, each recomputed in its backward: ${modules.length <= 4 ? modules.join(", ") : `${modules.slice(0, 2).join(", ")}, ..., ${modules[modules.length - 1]}`}`);
  }

  // --- Setup: weights and buffers, input, target (as the loop's script allocates them before step 1).
  // The forward's cuBLAS workspace: the process ran a matmul before (as the measuring script's earlier runs).
  if (opts.cublasWorkspace > 0 && ops.some((op) => op.usesCublas)) alloc.malloc(opts.cublasWorkspace);
  for (const p of opts.params) alloc.malloc(p.bytes);
  if (prog.inputBytes > 0) alloc.malloc(prog.inputBytes);
  alloc.malloc(8 * Math.max(1, opts.batch));
  const base = alloc.snapshot().allocated;

  const trainables = opts.params.filter((p) => p.trainable);
  const states: number[] = [];
  let grads: number[] = [];
  let cublasBwd = false;
  const steps = Math.max(2, opts.steps ?? 3);
  let result: Omit<TrainSimResult, "paramBytes" | "trainableBytes" | "gradientBytes" | "optimizerStateBytes" | "stepTemporaryBytes" | "warnings" | "base"> | undefined;

  for (let s = 1; s <= steps; s++) {
    alloc.resetPeaks();
    const last = s === steps;
    if (last) alloc.events = [];
    const timeline: TrainTimelinePoint[] = [];
    let peak = alloc.snapshot().allocated;
    let peakAt: { phase: Phase; layer: string } = { phase: "forward", layer: "" };
    const mark = (phase: Phase, layer: string): void => {
      const snap = alloc.snapshot();
      if (last) timeline.push({ phase, layer, liveBytes: snap.allocated - base });
      if (snap.peakAllocated > peak) {
        peak = snap.peakAllocated;
        peakAt = { phase, layer };
      }
    };
    // zero_grad(set_to_none=True)
    for (const g of grads) alloc.free(g);
    grads = [];

    const live = new Map<string, Storage>();
    const hold = (id: string): void => {
      const st = live.get(id);
      if (st) st.holds++;
    };
    const release = (id: string): void => {
      const st = live.get(id);
      if (!st) return;
      if (--st.holds <= 0) {
        alloc.free(st.addr);
        live.delete(id);
      }
    };
    const frees = new Map<number, string[]>();
    for (const [id, after] of prog.freeAfter) if (Number.isFinite(after)) frees.set(after, [...(frees.get(after) ?? []), id]);
    /** Extra saved buffers and half weight copies of op i, by op. */
    const extras = new Map<number, number[]>();

    /**
     * peft's LoRA forward, `result + lora_B(lora_A(x)) * scaling`: x A (rows x r) is saved for B's gradient;
     * B's output and its scaled copy are results' size and gone once added.
     */
    const loraForward = (i: number, keep: boolean, held: number[]): void => {
      const a = paramsOf[i]!.find((p) => p.lora?.part === "A");
      if (!a?.lora) return;
      const out = outputsOf(ops[i]!).reduce((s, o) => s + (bytesOf.get(o) ?? 0), 0);
      const down = alloc.malloc((out / a.lora.outFeatures) * a.lora.rank);
      const up = alloc.malloc(out);
      const scaled = alloc.malloc(out);
      alloc.free(up);
      alloc.free(scaled);
      if (keep) held.push(down);
      else alloc.free(down);
    };
    /** Runs op i's forward; `keep` decides whether its saved tensors are held for backward. */
    const forwardOp = (i: number, keep: boolean, recompute: boolean): void => {
      const op = ops[i]!;
      const plan = plans[i]!;
      const held: number[] = [];
      for (const h of halfCopies[i]!) held.push(alloc.malloc(h));
      if (!keep) for (const a of held) alloc.free(a);
      // QLoRA: each 4-bit weight is dequantized for its matmul and dropped after it.
      for (const q of paramsOf[i]!) if (q.quantized) alloc.free(alloc.malloc(byteSize(opts.activationDType ?? "float16", q.elements)));
      for (const a of op.allocs) {
        const at = alloc.malloc(a.bytes);
        if (a === op.allocs.find((x) => x.what !== "copy")) {
          const ws = opts.workspace(i);
          if (ws > 0) alloc.free(alloc.malloc(ws));
          loraForward(i, keep, held);
        }
        if (a.transient && !(a.what === "folded-bn" && keep && plan.keepFoldedConv)) alloc.free(at);
        else live.set(a.id, { addr: at, holds: a.transient ? 0 : 1 });
      }
      if (keep) {
        for (const b of plan.extra) held.push(alloc.malloc(b));
        extras.set(i, held);
        for (const id of plan.storages) hold(id);
        for (const a of op.allocs) if (a.what === "folded-bn" && plan.keepFoldedConv) hold(a.id);
      }
      // Forward lifetimes (a recomputed block frees what only the block itself reads).
      for (const id of frees.get(i) ?? []) {
        const made = recompute ? madeBy.get(id) : i;
        if (made !== undefined && (!recompute || block[made] === block[i])) release(id);
      }
      if (recompute) {
        for (const a of op.allocs) {
          if (a.transient) continue;
          const after = prog.freeAfter.get(a.id) ?? i;
          if (block[after] !== block[i] || !Number.isFinite(after)) release(a.id);
        }
      }
    };

    // --- Forward.
    const blockInputs = new Map<number, string[]>();
    for (let i = 0; i < n; i++) {
      const b = block[i]!;
      if (b >= 0) {
        for (const r of ops[i]!.reads) {
          const made = madeBy.get(r);
          if ((made === undefined || block[made] !== b) && !(blockInputs.get(b) ?? []).includes(r)) {
            blockInputs.set(b, [...(blockInputs.get(b) ?? []), r]);
            hold(r);
          }
        }
      }
      forwardOp(i, b < 0 && runsBackward[i]!, false);
      mark("forward", ops[i]!.layer);
    }
    // Loss: cross_entropy = log_softmax (saved, fp32: autocast runs losses in fp32) + nll_loss (a scalar).
    const logitsOut = n > 0 ? outputsOf(ops[n - 1]!)[0] : undefined;
    const logits = (logitsOut !== undefined ? bytesOf.get(logitsOut) : undefined) ?? prog.outputBytes;
    const logitElements = opts.outputElements ?? logits / elementBytes;
    // Under autocast, cross_entropy first casts half logits up to fp32 (a copy log_softmax reads).
    const upcast = opts.mixedPrecision && logits < logitElements * 4 ? alloc.malloc(logitElements * 4) : undefined;
    const logProbs = alloc.malloc(byteSize("float32", logitElements));
    if (upcast !== undefined) alloc.free(upcast);
    const loss = alloc.malloc(4);
    mark("forward", "loss");
    const afterForward = alloc.snapshot().allocated - base;

    // --- Backward.
    const gradOf = new Map<string, Storage>();
    const setGrad = (id: string, g: Storage): void => {
      const old = gradOf.get(id);
      if (!old) {
        gradOf.set(id, g);
        return;
      }
      // A second gradient for the same tensor: added into the first in place.
      if (--g.holds <= 0) alloc.free(g.addr);
    };
    const dropGrad = (id: string): void => {
      const g = gradOf.get(id);
      if (!g) return;
      gradOf.delete(id);
      if (--g.holds <= 0) alloc.free(g.addr);
    };
    // d(loss)/d(logits): nll_loss backward and log_softmax backward each allocate one logits-sized buffer.
    const ones = alloc.malloc(4);
    const gNll = alloc.malloc(byteSize("float32", logitElements));
    alloc.free(ones);
    const gLogits = alloc.malloc(logits);
    alloc.free(gNll);
    alloc.free(logProbs);
    const outs = ops.length > 0 ? outputsOf(ops[n - 1]!) : [];
    if (outs[0] !== undefined) gradOf.set(outs[0], { addr: gLogits, holds: 1 });
    else alloc.free(gLogits);
    let recomputed = -1;
    for (let i = n - 1; i >= 0; i--) {
      const b = block[i]!;
      if (b >= 0 && b !== recomputed) {
        // Checkpointed block: its forward runs again, keeping what its backward needs.
        recomputed = b;
        let start = i;
        while (start > 0 && block[start - 1] === b) start--;
        for (let k = start; k <= i; k++) forwardOp(k, runsBackward[k]!, true);
        for (const r of blockInputs.get(b) ?? []) release(r);
      }
      const op = ops[i]!;
      if (!runsBackward[i]) continue;
      const results = outputsOf(op);
      const incoming = results.map((r) => gradOf.get(r)).find((g) => g !== undefined);
      if (incoming && op.usesCublas && opts.backwardCublas && !cublasBwd && opts.cublasWorkspace > 0) {
        cublasBwd = true;
        alloc.malloc(opts.cublasWorkspace);
      }
      const foldedConv = op.allocs.find((a) => a.what === "folded-bn" && plans[i]!.keepFoldedConv);
      if (incoming) {
        const alias = isAliasBackward(op);
        const ws = (opts.backwardWorkspace ?? opts.workspace)(i);
        const paramGrad = (p: TrainParam): void => {
          if (opts.mixedPrecision && p.what === "weight") {
            const half = alloc.malloc(byteSize("float16", p.elements));
            grads.push(alloc.malloc(p.bytes));
            alloc.free(half);
          } else grads.push(alloc.malloc(p.bytes));
        };
        const mine = paramsOf[i]!.filter((p) => p.trainable);
        // A folded BatchNorm runs its own backward first: the conv output's gradient and BN's parameter
        // gradients; the incoming gradient and BN's saved input go before the convolution's backward.
        let bnGrad: number | undefined;
        if (foldedConv) {
          bnGrad = alloc.malloc(foldedConv.bytes);
          for (const p of mine) if (p.what === "bn") paramGrad(p);
          for (const r of results) dropGrad(r);
          release(foldedConv.id);
        }
        const inputGrads: [string, Storage][] = [];
        for (const r of op.reads) {
          if (!needsGrad.has(r)) continue;
          if (alias) {
            incoming.holds++;
            inputGrads.push([r, incoming]);
            continue;
          }
          const bytes = bytesOf.get(r);
          if (bytes === undefined) continue;
          const g = alloc.malloc(bytes);
          if (ws > 0) alloc.free(alloc.malloc(ws));
          inputGrads.push([r, { addr: g, holds: 1 }]);
        }
        const loraA = mine.find((p) => p.lora?.part === "A");
        if (loraA?.lora) {
          // Through the adapter: d(xA) (rows x r), then its contribution to x's gradient, added in place.
          const out = results.reduce((s, o) => s + (bytesOf.get(o) ?? 0), 0);
          const dDown = alloc.malloc((out / loraA.lora.outFeatures) * loraA.lora.rank);
          const inBytes = op.reads[0] !== undefined ? (bytesOf.get(op.reads[0]) ?? 0) : 0;
          if (inBytes > 0 && needsGrad.has(op.reads[0]!)) alloc.free(alloc.malloc(inBytes));
          alloc.free(dDown);
        }
        for (const p of mine) {
          if (foldedConv && p.what === "bn") continue;
          // The weight's gradient is allocated first, then the call's workspace (the measured trace's order).
          paramGrad(p);
          if (ws > 0 && p.what === "weight") alloc.free(alloc.malloc(ws));
        }
        if (bnGrad !== undefined) alloc.free(bnGrad);
        else for (const r of results) dropGrad(r);
        for (const [r, g] of inputGrads) setGrad(r, g);
      } else if (foldedConv) release(foldedConv.id);
      for (const a of extras.get(i) ?? []) alloc.free(a);
      extras.delete(i);
      for (const id of plans[i]!.storages) release(id);
      mark("backward", op.layer);
    }
    for (const id of [...gradOf.keys()]) dropGrad(id);
    const afterBackward = alloc.snapshot().allocated - base;

    // --- Optimizer step.
    const perParam = statesPerParam(opts.optimizer);
    if (states.length === 0 && perParam > 0) {
      for (const p of trainables) for (let k = 0; k < perParam; k++) states.push(alloc.malloc(p.bytes));
    }
    const temps = stepTemporariesPerParam(opts.optimizer);
    const tempAddrs: number[] = [];
    for (let k = 0; k < temps; k++) for (const p of trainables) tempAddrs.push(alloc.malloc(p.bytes));
    for (const a of tempAddrs) alloc.free(a);
    mark("step", "optimizer.step");
    const afterStep = alloc.snapshot().allocated - base;
    // `del out, loss`: the logits and the loss go before the next step.
    for (const id of [...live.keys()]) {
      const st = live.get(id)!;
      alloc.free(st.addr);
      live.delete(id);
    }
    alloc.free(loss);
    const snap = alloc.snapshot();
    if (last) {
      result = {
        peakDelta: snap.peakAllocated - base,
        peakAllocated: snap.peakAllocated,
        peakReserved: snap.peakReserved,
        reservedAtEnd: snap.reserved,
        afterForward,
        afterBackward,
        afterStep,
        timeline,
        peakAt,
        events: alloc.events ?? [],
      };
    }
  }
  const sum = (ps: TrainParam[]): number => ps.reduce((a, p) => a + p.bytes, 0);
  const trainableBytes = sum(trainables);
  return {
    ...result!,
    base,
    paramBytes: sum(opts.params),
    trainableBytes,
    gradientBytes: trainableBytes,
    optimizerStateBytes: trainableBytes * statesPerParam(opts.optimizer),
    stepTemporaryBytes: trainableBytes * stepTemporariesPerParam(opts.optimizer),
    warnings,
  };
}
