/**
 * `fit` for a GGUF on llama.cpp, like llama.cpp's --fit (common/common.cpp fit_params): every layer on the GPU and
 * the largest context that fits (from fit_params_min_ctx = 4096 up to the training context, in steps of 256), else
 * the most layers that fit at the requested context. It changes only what the user left unset (-c, -ngl), and
 * keeps llama.cpp's margin (fit_params_target, 1024 MiB) free on the device.
 */
import type { Report } from "../contract/report.js";
import { UsageError } from "../errors.js";
import type { LlamaCppFlags } from "../memory/llamacpp/settings.js";
import { llamaCppEstimate } from "./llamacpp.js";
import type { EstimateSettings } from "./settings.js";
import type { GgufSource } from "./source.js";

/** llama.cpp --fit keeps this much free on each device (common.h fit_params_target: 1024 MiB). */
export const FIT_MARGIN = 1024 * 2 ** 20;

/** llama.cpp --fit's smallest context when it shrinks one left unset (common.h fit_params_min_ctx). */
export const FIT_MIN_CTX = 4096;

export interface LlamaCppPlan {
  margin: number;
  marginWhy: string;
  fits: boolean;
  why: string;
  /** The plan's context (n_ctx after padding), layers on the GPU and flags; null when nothing fits. */
  plan: { ctx: unknown; gpuLayers: number | "all"; flags: unknown } | null;
  /** The plan's report (every buffer, the total); undefined when nothing fits. */
  report: Report | undefined;
  /** What the settings left to defaults (the context), said once rather than at every step of the search. */
  warnings: string[];
  cudaContext: { bytes: number; note: string };
}

export function fitLlamaCpp(source: GgufSource, settings: EstimateSettings): { device: string; capacity: number; llamacpp: LlamaCppPlan } {
  const { choice: given, warnings } = llamaCppEstimate(source, settings);
  const { device, ctxGiven, nglGiven } = given;
  const capacity = device.capacity.value;
  if (capacity === null) throw new UsageError(`--device ${device.id}: fit needs a GPU with a known capacity`);
  const budget = capacity - FIT_MARGIN;
  const at = (f: LlamaCppFlags): Report => llamaCppEstimate(source, { ...settings, llamacpp: { ...settings.llamacpp, ...f } }).report;
  const fits = (f: LlamaCppFlags): boolean => at(f).memory!.total <= budget;
  const nLayer = metadataNumber(source, "block_count") ?? 0;
  const ctx = given.settings.ctx;
  let plan: LlamaCppFlags | undefined;
  let why: string;
  if (ctxGiven && !nglGiven && fits({ gpuLayers: "all" })) {
    plan = { gpuLayers: "all" };
    why = "every layer on the GPU at the given context";
  } else if (!ctxGiven && !nglGiven && fits({ gpuLayers: "all", ctx: FIT_MIN_CTX })) {
    // Every layer fits at the minimum context: grow the context (in llama.cpp's steps of 256) up to the training context.
    const train = Math.max(FIT_MIN_CTX, metadataNumber(source, "context_length") ?? FIT_MIN_CTX);
    let lo = FIT_MIN_CTX;
    let hi = train;
    if (fits({ gpuLayers: "all", ctx: hi })) lo = hi;
    else {
      while (hi - lo > 256) {
        const mid = Math.floor((lo + hi) / 512) * 256;
        if (mid <= lo) break;
        if (fits({ gpuLayers: "all", ctx: mid })) lo = mid;
        else hi = mid;
      }
    }
    plan = { gpuLayers: "all", ctx: lo };
    why = lo === train ? "every layer on the GPU at the model's full training context" : "every layer on the GPU; the context is the largest (in steps of 256) that keeps the margin";
  } else {
    const planCtx = ctxGiven ? ctx : FIT_MIN_CTX;
    let best = -1;
    for (let n = nLayer + 1; n >= 0; n--) {
      if (fits({ ctx: planCtx, gpuLayers: n })) {
        best = n;
        break;
      }
    }
    plan = best >= 0 ? { ctx: planCtx, gpuLayers: best } : undefined;
    why = best > nLayer ? "every layer and the output on the GPU" : best >= 0 ? `${best} of ${nLayer} layers on the GPU at ${planCtx} tokens of context; the rest run on the CPU` : "not even the context fits beside the CUDA context";
  }
  const report = plan ? at(plan) : undefined;
  const l = report?.memory!["llamacpp"] as Record<string, unknown> | undefined;
  return {
    device: device.id,
    capacity,
    llamacpp: {
      margin: FIT_MARGIN,
      marginWhy: "llama.cpp --fit keeps 1024 MiB free per device by default (--fit-target)",
      fits: plan !== undefined,
      why,
      plan: plan && l ? { ctx: l["nCtx"], gpuLayers: plan.gpuLayers!, flags: l["flags"] } : null,
      report,
      warnings,
      cudaContext: { bytes: device.contextLazy.value, note: `${device.contextLazy.note}; llama.cpp's own CUDA context is unmeasured` },
    },
  };
}

/** `<arch>.KEY` from the GGUF's metadata (llama.block_count, qwen2.context_length...). */
function metadataNumber(source: GgufSource, key: string): number | undefined {
  const v = source.header.metadata[`${String(source.header.metadata["general.architecture"])}.${key}`];
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}
