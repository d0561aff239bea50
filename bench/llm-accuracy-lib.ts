/**
 * The transformer rows of the ground truth predicted from config.json alone: forward activation peaks of
 * bert-base and gpt2 (fp32/fp16, the measured batch and seq) and gpt2's generation peak.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { archFromConfig } from "../src/llm/arch.js";
import { estimateLlm } from "../src/llm/estimate.js";

export interface LlmRow {
  what: string;
  predicted: number;
  measured: number;
  error: number;
}

export function llmAccuracy(shared: string): LlmRow[] {
  const gt = JSON.parse(readFileSync(join(shared, "groundtruth", "h200-torch2.11.json"), "utf8")) as {
    hf_configs: Record<string, Record<string, unknown>>;
    runs: Record<string, unknown>[];
  };
  const rows: LlmRow[] = [];
  for (const r of gt.runs) {
    const cfg = gt.hf_configs[r["model"] as string];
    if (!cfg || r["mode"] !== "inference" || typeof r["peak_delta_2"] !== "number") continue;
    const a = archFromConfig(cfg);
    const dtype = r["dtype"] === "float32" ? "fp32" : "fp16";
    const base = { batch: r["batch"] as number, seq: r["seq"] as number, dtype, device: "h200", newTokens: 0, attn: "sdpa" } as const;
    const f = estimateLlm(a, { ...base, mode: "inference" });
    const label = `${r["model"]} ${dtype} b${base.batch} s${base.seq}`;
    const measured = r["peak_delta_2"] as number;
    rows.push({ what: `${label} activationPeak`, predicted: f.memory.activationPeak, measured, error: f.memory.activationPeak / measured - 1 });
    if (typeof r["generate_peak_delta"] === "number") {
      const g = estimateLlm(a, { ...base, mode: "generate", newTokens: r["generate_new_tokens"] as number });
      const m = r["generate_peak_delta"] as number;
      rows.push({ what: `${label} generate +${r["generate_new_tokens"]}`, predicted: g.memory.activationPeak, measured: m, error: g.memory.activationPeak / m - 1 });
    }
  }
  return rows;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
