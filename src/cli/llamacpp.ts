/**
 * `fit` for a GGUF on llama.cpp, printed: the plan pipeline/llamacpp-fit.ts chose the way llama.cpp's --fit does,
 * every buffer of it as JSON, with the margin it kept and why. analyze runs a GGUF through the one pipeline
 * (cli/llm.ts); llama.cpp's flags are read into the one settings object (cli/options.ts cliSettings).
 */
import { findDevice } from "../memory/devices.js";
import type { FitResult } from "../pipeline/fit.js";
import { printOut } from "./print.js";

export function printLlamaCppFit(file: string, r: FitResult, json: boolean): void {
  const l = r.llamacpp;
  if (!l) throw new Error("unreachable: a llama.cpp fit without its plan");
  const m = l.report?.memory;
  const result = {
    device: r.device,
    capacity: r.capacity,
    margin: l.margin,
    marginWhy: l.marginWhy,
    fits: l.fits,
    why: l.why,
    plan: l.plan,
    total: m?.total ?? null,
    buffers: m?.["buffers"] ?? [],
    cudaContext: l.cudaContext,
  };
  if (json) {
    printOut(JSON.stringify(result) + "\n");
    return;
  }
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  const name = findDevice(r.device)?.name ?? r.device;
  printOut(l.plan ? `${file} on ${name}: ${l.why} (${String(l.plan.flags)}), ${gib(result.total!)} of ${gib(r.capacity)} with a ${gib(l.margin)} margin\n` : `${file} does not fit on ${name}: ${l.why}\n`);
  for (const w of l.warnings) printOut(`warning: ${w}\n`);
}
