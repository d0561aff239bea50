/**
 * Runs an eager program through the caching allocator the way a user's process does: weights, then the
 * input, then forwards in a loop, each output consumed before the next forward starts.
 * Persistent buffers (the cuBLAS workspace) appear at their first use and stay.
 */
import { liveness, type LivenessResult, type MemEvent } from "../liveness.js";
import { CachingAllocator, roundSize, type AllocatorStats } from "./caching-allocator.js";
import type { EagerProgram } from "./eager.js";

export interface SimulationOptions {
  /** Scratch each op allocates and frees while it runs (cuDNN workspace), by op index; 0 when none. */
  workspace: (opIndex: number) => number;
  /**
   * cudnn.benchmark: scratch of the autotuning trials an op runs the first time its convolution configuration
   * is seen (0 when its plans need none), undefined when the op benchmarks nothing new. PyTorch empties the
   * allocator's cache after every benchmark, workspace or not (Conv_v8.cpp, run_single_conv), so the trial's
   * segment goes back to the driver: it shows in max_memory_allocated/reserved, not in nvidia-smi afterwards.
   */
  benchmarkTrial?: (opIndex: number) => number | undefined;
  /** Bytes of the cuBLAS workspace, allocated at the first op that uses cuBLAS. */
  cublasWorkspace: number;
  /** The process used cuBLAS before the model was loaded: its workspace is already allocated (own segment). */
  cublasFirst?: boolean;
  /** Bytes of a second persistent buffer that comes with cuBLAS (the cuBLASLt workspace), allocated right after it. */
  cublasLtWorkspace?: number;
  /** Forward passes to run (the steady state is reached by the second). */
  forwards?: number;
  capacity?: number;
  /** The caller deletes each forward's output before the next (`del y`), as HF measurement loops do. */
  deleteOutputs?: boolean;
}

export interface SimulationResult {
  /** Peak allocated during the second forward minus what was allocated when it started (peak_delta_2). */
  activationPeak: number;
  peakAllocated: number;
  peakReserved: number;
  /** Reserved at the end (what nvidia-smi sees, with the context). */
  reservedAtEnd: number;
  /** Segments of what is allocated before the input: the weights, and the cuBLAS workspace when `cublasFirst`; they do not grow with the batch. */
  weightsReserved: number;
  /** Largest transient scratch (cuDNN) seen in one op. */
  maxWorkspace: number;
  usesCublas: boolean;
  /** Live bytes per op in one forward, 512-byte rounded, and the peak's position and tensors. */
  liveness: LivenessResult;
  stats: AllocatorStats;
}

export function simulate(prog: EagerProgram, opts: SimulationOptions): SimulationResult {
  const alloc = new CachingAllocator(opts.capacity);
  let cublas: number | undefined;
  const startCublas = (): number => {
    const at = alloc.malloc(opts.cublasWorkspace);
    if ((opts.cublasLtWorkspace ?? 0) > 0) alloc.malloc(opts.cublasLtWorkspace!);
    return at;
  };
  if (opts.cublasFirst && opts.cublasWorkspace > 0 && prog.ops.some((op) => op.usesCublas)) cublas = startCublas();
  for (const w of prog.weights) alloc.malloc(w);
  const weightsReserved = alloc.snapshot().reserved;
  if (prog.inputBytes > 0) alloc.malloc(prog.inputBytes);
  const forwards = Math.max(2, opts.forwards ?? 3);
  let previousOutputs: number[] = [];
  let activationPeak = 0;
  let maxWorkspace = 0;
  const events: MemEvent[] = [];
  const frees = new Map<number, string[]>();
  for (const [id, after] of prog.freeAfter) {
    if (!Number.isFinite(after)) continue;
    const list = frees.get(after);
    if (list) list.push(id);
    else frees.set(after, [id]);
  }
  // Per op, fixed across forwards: whether a folded BatchNorm splits it in two calls, and which of its
  // allocations are graph outputs (never freed by the forward).
  const foldedBn = prog.ops.map((op) => op.allocs.some((x) => x.what === "folded-bn"));
  const isOutput = prog.ops.map((op) => op.allocs.map((a) => !a.transient && !Number.isFinite(prog.freeAfter.get(a.id) ?? 0)));
  let peakAllocated = 0;
  let peakReserved = 0;
  for (let f = 1; f <= forwards; f++) {
    const before = alloc.snapshot();
    peakAllocated = Math.max(peakAllocated, before.peakAllocated);
    peakReserved = Math.max(peakReserved, before.peakReserved);
    alloc.resetPeaks();
    // The caller has consumed the previous forward's output (a server returns it; `del y` in a loop).
    for (const at of previousOutputs) alloc.free(at);
    previousOutputs = [];
    const startAllocated = alloc.snapshot().allocated;
    const addr = new Map<string, number>();
    const outputs: number[] = [];
    prog.ops.forEach((op, i) => {
      if (op.usesCublas && cublas === undefined && opts.cublasWorkspace > 0) cublas = startCublas();
      const transient: [string, number][] = [];
      let released = false;
      const releaseDead = (step: number): void => {
        if (released) return;
        released = true;
        for (const id of frees.get(step) ?? []) {
          const at = addr.get(id);
          if (at === undefined) continue;
          alloc.free(at);
          addr.delete(id);
          if (f === 1) events.push({ kind: "free", id, step });
        }
      };
      op.allocs.forEach((a, k) => {
        // Conv then BatchNorm are two calls: the conv's input dies (if this was its last use) before BN allocates.
        if (a.what === "output" && foldedBn[i]) {
          releaseDead(i);
        }
        const at = alloc.malloc(a.bytes);
        if (f === 1) events.push({ kind: "alloc", id: a.id, bytes: a.bytes, step: i });
        if (a.transient) transient.push([a.id, at]);
        else {
          addr.set(a.id, at);
          if (isOutput[i]![k]) outputs.push(at);
        }
        // The kernel runs once its (first) output exists; its scratch comes and goes before the next allocation.
        if (a === op.allocs[0]) {
          // PyTorch caches the timed choice per configuration, so only the first forward benchmarks.
          const trial = f === 1 ? opts.benchmarkTrial?.(i) : undefined;
          if (trial !== undefined) {
            if (trial > 0) alloc.free(alloc.malloc(trial));
            alloc.emptyCache();
          }
          const ws = opts.workspace(i);
          if (ws > 0) {
            alloc.free(alloc.malloc(ws));
            maxWorkspace = Math.max(maxWorkspace, ws);
            if (f === 1) {
              events.push({ kind: "alloc", id: `${op.layer}#workspace`, bytes: ws, step: i });
              events.push({ kind: "free", id: `${op.layer}#workspace`, step: i });
            }
          }
        }
      });
      for (const [id, at] of transient) {
        alloc.free(at);
        if (f === 1) events.push({ kind: "free", id, step: i });
      }
      releaseDead(i);
    });
    previousOutputs = outputs;
    const after = alloc.snapshot();
    if (f === 2) activationPeak = after.peakAllocated - startAllocated;
    peakAllocated = Math.max(peakAllocated, after.peakAllocated);
    peakReserved = Math.max(peakReserved, after.peakReserved);
    if (opts.deleteOutputs) {
      // `y = model(x); ...; del y`: nothing of this forward survives into the next.
      for (const at of outputs) alloc.free(at);
      previousOutputs = [];
    }
  }
  const stats = alloc.snapshot();
  return {
    activationPeak,
    peakAllocated,
    peakReserved,
    reservedAtEnd: stats.reserved,
    weightsReserved,
    maxWorkspace,
    usesCublas: cublas !== undefined,
    liveness: liveness(events, prog.ops.length, roundSize),
    stats,
  };
}
