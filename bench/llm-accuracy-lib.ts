/**
 * The transformer rows of the ground truth predicted from config.json alone: forward activation peaks
 * (the measured batch, seq and dtype) and generation peaks (greedy, 128 new tokens), in two groups:
 * - shared: bench/groundtruth/h200-torch2.11.json (bert-base and gpt2, fp32/fp16), what the LLM programs were built against;
 * - held out: bench/groundtruth/gpu-h200-torch2.11-llm.json (qwen2-0.5b and a llama-3.2-1b-like config, fp16,
 *   GQA, tied 151,936 / 128,256 vocabularies), measured later with the same protocol and never tuned on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { archFromConfig } from "../src/llm/arch.js";
import { estimateLlm } from "../src/llm/estimate.js";
import type { AttnImpl } from "../src/llm/program.js";

export interface LlmRow {
  what: string;
  predicted: number;
  measured: number;
  error: number;
}

/** A measurement file of measure_gpu.py section 5's protocol (its `hf_configs` and `runs`). */
interface LlmGroundTruth {
  hf_configs: Record<string, Record<string, unknown>>;
  runs: Record<string, unknown>[];
}

/** The held-out measurement file, relative to the repository root. */
export const HELDOUT_LLM_FILE = join("bench", "groundtruth", "gpu-h200-torch2.11-llm.json");

function readGroundTruth(file: string): LlmGroundTruth {
  return JSON.parse(readFileSync(file, "utf8")) as LlmGroundTruth;
}

/**
 * The shared ground truth's rows (bert-base, gpt2). Its torchvision sections ran first in the same process, and
 * their classifiers' biased Linears had created the cuBLASLt workspace: it is in every transformer run's base.
 */
export function llmAccuracy(shared: string): LlmRow[] {
  return rowsOf(readGroundTruth(join(shared, "groundtruth", "h200-torch2.11.json")), true);
}

/**
 * The held-out rows (qwen2-0.5b, llama-3.2-1b), measured on an H200 with the same protocol, in one process
 * whose warm-up (bench/gpu/measure.py init_like_measure_gpu) ran only bias-free GEMMs and a convolution.
 */
export function llmHeldOutAccuracy(repoRoot: string): LlmRow[] {
  return rowsOf(readGroundTruth(join(repoRoot, HELDOUT_LLM_FILE)), false);
}

/** The attention the run recorded; the shared file leaves it null where the config did not set it yet (sdpa). */
function attnOf(r: Record<string, unknown>): AttnImpl {
  const a = r["attn_implementation"];
  return a === "eager" ? "eager" : a === "flash_attention_2" ? "flash" : "sdpa";
}

/**
 * Runs are listed in the order one process measured them. Each delta is taken from an allocation base read
 * before the first forward, so a persistent buffer the run creates on first use (the cuBLASLt workspace of the
 * first model with a biased Linear) is part of that run's measured deltas, forward and generate, and of no later
 * run's: the prediction of that one run adds it. `ltInBase`: the process had created it before the first run.
 */
function rowsOf(gt: LlmGroundTruth, ltInBase: boolean): LlmRow[] {
  const rows: LlmRow[] = [];
  for (const r of gt.runs) {
    const cfg = gt.hf_configs[r["model"] as string];
    if (!cfg || r["mode"] !== "inference" || typeof r["peak_delta_2"] !== "number") continue;
    const a = archFromConfig(cfg);
    const dtype = r["dtype"] === "float32" ? "fp32" : r["dtype"] === "bfloat16" ? "bf16" : "fp16";
    // Both scripts warm up with an sgemm and an hgemm before any model: the cuBLAS workspace comes first.
    const base = { batch: r["batch"] as number, seq: r["seq"] as number, dtype, device: "h200", newTokens: 0, attn: attnOf(r), cublasFirst: true } as const;
    const f = estimateLlm(a, { ...base, mode: "inference" });
    const firstLt = ltInBase ? 0 : f.cublasLtWorkspace;
    ltInBase ||= firstLt > 0;
    const label = `${r["model"]} ${dtype} b${base.batch} s${base.seq}`;
    const note = firstLt > 0 ? " +cuBLASLt ws" : "";
    const measured = r["peak_delta_2"] as number;
    const predicted = f.memory.activationPeak + firstLt;
    rows.push({ what: `${label} activationPeak${note}`, predicted, measured, error: predicted / measured - 1 });
    if (typeof r["generate_peak_delta"] === "number") {
      // Both measurement scripts call generate(max_new_tokens=N, min_new_tokens=N, do_sample=False).
      const n = r["generate_new_tokens"] as number;
      const g = estimateLlm(a, { ...base, mode: "generate", newTokens: n, minNewTokens: n });
      const m = r["generate_peak_delta"] as number;
      const gp = g.memory.activationPeak + firstLt;
      // Where the predicted peak falls: the prefill (a forward with a cache) or a decoding step (cache, logits, processors).
      const prefillEnd = g.program.ops.findIndex((op) => op.layer === "generate/cat_input_ids");
      const phase = g.sim.liveness.peakStep <= prefillEnd ? "prefill" : "decode";
      rows.push({ what: `${label} generate +${n} (${phase})${note}`, predicted: gp, measured: m, error: gp / m - 1 });
    }
  }
  return rows;
}

/**
 * The held-out forward runs' max_memory_reserved during forward 2 (`reserved_peak_2`: every segment the allocator
 * holds, weights and the cuBLAS workspace included) against the prediction's peakReserved. Each run starts from
 * an emptied cache (measure.py's reset() before the model is built), so only the persistent workspaces carry
 * over from earlier runs.
 */
export function llmHeldOutReserved(repoRoot: string): LlmRow[] {
  const gt = readGroundTruth(join(repoRoot, HELDOUT_LLM_FILE));
  const rows: LlmRow[] = [];
  for (const r of gt.runs) {
    const cfg = gt.hf_configs[r["model"] as string];
    if (!cfg || r["mode"] !== "inference" || typeof r["reserved_peak_2"] !== "number") continue;
    const dtype = r["dtype"] === "float32" ? "fp32" : r["dtype"] === "bfloat16" ? "bf16" : "fp16";
    const e = estimateLlm(archFromConfig(cfg), { batch: r["batch"] as number, seq: r["seq"] as number, dtype, device: "h200", newTokens: 0, attn: attnOf(r), mode: "inference", cublasFirst: true });
    const measured = r["reserved_peak_2"] as number;
    const predicted = e.memory.peakReserved;
    rows.push({ what: `${r["model"]} ${dtype} b${r["batch"]} s${r["seq"]} peakReserved`, predicted, measured, error: predicted / measured - 1 });
  }
  return rows;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median and max |error| of the forward rows and of the generation rows. */
export interface LlmSummary {
  forward: { median: number; max: number; rows: number };
  generate: { median: number; max: number; rows: number };
}

export function summarize(rows: LlmRow[]): LlmSummary {
  const stat = (xs: number[]) => ({ median: xs.length ? median(xs) : NaN, max: xs.length ? Math.max(...xs) : NaN, rows: xs.length });
  return {
    forward: stat(rows.filter((r) => r.what.includes("activationPeak")).map((r) => Math.abs(r.error))),
    generate: stat(rows.filter((r) => r.what.includes("generate")).map((r) => Math.abs(r.error))),
  };
}
