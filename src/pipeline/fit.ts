/**
 * `fit`: the largest batch (or sequence length) whose predicted total fits the device, for any ModelSource.
 * The total grows with the batch, so the answer is the boundary of one monotone search (memory/fit-search.ts).
 */
import { UsageError } from "../errors.js";
import { findDevice } from "../memory/devices.js";
import { largestThatFits } from "../memory/fit-search.js";
import { OutOfMemory } from "../memory/torch/caching-allocator.js";
import { memoryAt, onLlamaCpp, type Axis } from "./estimate.js";
import { fitLlamaCpp, type LlamaCppPlan } from "./llamacpp-fit.js";
import { DEFAULTS, llmSettingsOf, type EstimateSettings } from "./settings.js";
import { eagerSource, type ModelSource } from "./source.js";
import { positionLimit, type PositionLimit } from "../graph/position-limit.js";
import { symbolsOf } from "../sym/expr.js";

/** Batches (or context lengths) beyond this are not searched: a bound, not a device limit. */
export const MAX_SEARCH = 1 << 20;

export interface FitResult {
  device: string;
  capacity: number;
  /** Largest value of the solved dimension whose total fits; 0 when even 1 does not. */
  max: number;
  /** The total at `max` (at 1 when nothing fits). */
  total: number;
  /** The search stopped at its limit without running out of memory. */
  bounded: boolean;
  /** --solve seq on an ONNX graph: the position table that caps the search (graph/position-limit.ts). */
  positions?: PositionLimit;
  /** A GGUF on llama.cpp: the plan llama.cpp's --fit would choose (llamacpp-fit.ts); `max` is its context. */
  llamacpp?: LlamaCppPlan;
}

/**
 * The largest value of `axis` that fits. A GGUF on llama.cpp is fitted as llama.cpp's --fit does (the context
 * and the layers on the GPU, whichever the user left unset), whatever the axis.
 */
export function fit(source: ModelSource, settings: EstimateSettings, axis: Axis): FitResult {
  const gguf = onLlamaCpp(source, settings);
  if (gguf) {
    const r = fitLlamaCpp(gguf, settings);
    const m = r.llamacpp.report?.memory;
    return { device: r.device, capacity: r.capacity, max: m ? Number((m["llamacpp"] as Record<string, unknown>)["nCtx"]) : 0, total: m?.total ?? 0, bounded: false, llamacpp: r.llamacpp };
  }
  if (source.kind === "gguf") return fit(eagerSource(source), settings, axis);
  const deviceId = settings.device ?? DEFAULTS.device;
  const device = findDevice(deviceId);
  if (!device) throw new UsageError(`--device ${deviceId}: unknown device`);
  const capacity = device.capacity.value;
  if (capacity === null) throw new UsageError(`--device ${deviceId} has no fixed memory capacity to fit into`);
  const memory = memoryAt(source, settings, axis, capacity);
  const total = (n: number): number => {
    const m = memory(n);
    if (!m) throw new UsageError(`runtime ${settings.runtime ?? DEFAULTS.runtime} gives no memory estimate`);
    return m.total;
  };
  let limit = MAX_SEARCH;
  let search: (n: number) => number | undefined = total;
  let positions: PositionLimit | undefined;
  if (source.kind === "onnx" && axis === "seq") {
    // A graph with no `seq` dimension has no context to solve; one with a position table cannot run past it.
    const g = source.model.graph;
    const seqInput = g.inputs.some((v) => !g.initializers.has(v.name) && v.type.kind === "tensor" && (v.type.shape ?? []).slice(1).some((d) => symbolsOf(d).has("seq")));
    if (!seqInput) throw new UsageError(`--solve seq: ${source.model.file} has no sequence dimension 'seq' among its inputs; use --solve batch`);
    positions = positionLimit(g);
    if (positions) limit = Math.min(limit, positions.positions);
  }
  if (source.kind !== "onnx") {
    // A context past the model's positions is not one it can run; running out of memory inside the simulation
    // (the allocator is given the capacity) or a context it refuses is "does not fit", not an error.
    if (axis === "seq") limit = Math.min(limit, source.llm.arch.maxPositions - llmSettingsOf(settings, source.llm.arch, []).newTokens);
    search = (n) => {
      try {
        return total(n);
      } catch (e) {
        if (e instanceof OutOfMemory || e instanceof UsageError) return undefined;
        throw e;
      }
    };
  }
  return { device: device.id, capacity, ...largestThatFits(search, capacity, limit), ...(positions ? { positions } : {}) };
}
