/**
 * What the HTML report adds to a llama.cpp report: the estimate again at contexts from 512 tokens to the
 * model's training context (powers of two), and the device table's capacities. Kept out of `analyze --json`.
 */
import type { Report } from "../contract/report.js";
import type { ContextPoint } from "../contract/report.js";
import { deviceCapacities } from "./sweep.js";

export function withLlamaCppCharts(report: Report, at: (ctx: number) => Report): Report {
  const l = (report.memory?.["llamacpp"] ?? {}) as Record<string, unknown>;
  const train = Math.max(512, Number(l["nCtxTrain"] ?? 0), Number(l["nCtx"] ?? 0));
  const points: ContextPoint[] = [];
  for (let ctx = 512; ctx <= train; ctx *= 2) {
    const m = at(ctx).memory!;
    points.push({ ctx, kv: Number(m["kvCache"] ?? 0), total: m.total });
    if (ctx * 2 > train && ctx !== train) {
      const last = at(train).memory!;
      points.push({ ctx: train, kv: Number(last["kvCache"] ?? 0), total: last.total });
    }
  }
  return { ...report, memory: { ...report.memory!, contextSweep: points }, devices: deviceCapacities() };
}
