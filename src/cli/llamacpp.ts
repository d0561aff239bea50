/**
 * analyze / fit for GGUF files on the llama.cpp runtime (the default for .gguf): llama.cpp's own flags
 * (src/memory/llamacpp/settings.ts) beside memlens's --device, --cpu, --json and --html.
 */
import { basename } from "node:path";
import { UsageError } from "../errors.js";
import { readGguf, type GgufFile } from "../formats/gguf.js";
import { FileSource } from "../formats/source-node.js";
import { hostCpu, parseCpuIsa, type CpuIsa } from "../memory/cpu.js";
import { findDevice } from "../memory/devices.js";
import { llamaCppReport, type LlamaCppReportInput } from "../memory/llamacpp/report.js";
import { parseLlamaFlags, type LlamaCppSettings } from "../memory/llamacpp/settings.js";
import { renderExplanation } from "../report/explain.js";
import type { Report } from "../contract/report.js";
import { checkReportFiles, reportFiles, writeReportFiles } from "./report-files.js";
import { printOut } from "./print.js";

/** llama.cpp --fit keeps this much free on each device (common.h fit_params_target: 1024 MiB). */
export const FIT_MARGIN = 1024 * 2 ** 20;

function given(rawArgs: readonly string[], name: string): boolean {
  return rawArgs.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/** A .gguf runs on llama.cpp unless --runtime says otherwise. */
export function usesLlamaCpp(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): boolean {
  return /\.gguf$/i.test(path) && (!given(rawArgs, "runtime") || args["runtime"] === "llama.cpp");
}

/** The report's input, and which of -c / -ngl the user gave (fit changes only what was left unset). */
interface Prepared extends LlamaCppReportInput {
  ctxGiven: boolean;
  nglGiven: boolean;
}

function prepare(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): Prepared {
  const warnings: string[] = [];
  const cpuArg = typeof args["cpu"] === "string" && args["cpu"] !== "" ? parseCpuIsa(args["cpu"]) : undefined;
  const host = hostCpu();
  const cpu: CpuIsa = cpuArg ?? host.isa;
  const cpuFrom = cpuArg !== undefined ? "--cpu" : host.isa === "generic" ? `this machine: ${host.source}` : `${host.model || "this machine"} (this machine)`;
  const { settings, given: flags } = parseLlamaFlags(rawArgs, cpu);
  const deviceId = given(rawArgs, "device") ? String(args["device"]) : "cpu";
  const device = findDevice(deviceId);
  if (!device) throw new UsageError(`--device ${deviceId}: unknown device`);
  const isGpu = device.capacity.value !== null;
  const nglGiven = flags.includes("gpu-layers");
  if (!isGpu && nglGiven && settings.gpuLayers !== 0) throw new UsageError(`-ngl ${settings.gpuLayers}: layers go to a GPU; name one with --device (e.g. --device rtx4090)`);
  // llama.cpp's default -ngl is auto: as many layers as fit, all of them when they do (fit finds the most that fit).
  if (isGpu && !nglGiven) settings.gpuLayers = "all";
  // FileSource opens regular files only and reads the header in windows; the weights are never read.
  const src = new FileSource(path, "GGUF file");
  let gguf: GgufFile;
  const fileBytes = src.size;
  try {
    gguf = readGguf(src);
  } finally {
    src.close();
  }
  const ctxGiven = flags.includes("ctx-size");
  if (!ctxGiven) warnings.push("context not set: llama.cpp's default -c 0 takes the model's training context (set it with -c N)");
  if (cpu === "amx" || cpu === "neon") warnings.push(`--cpu ${cpu}: its weight packing is modelled from ggml-cpu's source, not measured (the measured CPU is AVX-512, CPU_REPACK)`);
  return { file: basename(path), gguf, fileBytes, settings, device, cpuFrom, warnings, ctxGiven, nglGiven };
}

function reportOf(p: Prepared, settings: LlamaCppSettings): Report {
  return llamaCppReport({ file: p.file, gguf: p.gguf, fileBytes: p.fileBytes, settings, device: p.device, cpuFrom: p.cpuFrom, warnings: [...p.warnings] }).report;
}

export async function analyzeLlamaCppCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): Promise<void> {
  const files = reportFiles(args, rawArgs, [path]);
  checkReportFiles(files);
  const p = prepare(path, args, rawArgs);
  const report = reportOf(p, p.settings);
  printOut(args["json"] && files.json === undefined ? JSON.stringify(report) + "\n" : renderExplanation(report));
  await writeReportFiles(files, report, async () => (await import("../pipeline/llamacpp-sweep.js")).withLlamaCppCharts(report, (ctx) => reportOf(p, { ...p.settings, ctx })));
}

/**
 * Like llama.cpp's --fit: all layers on the GPU and the largest context that fits (up to the training context),
 * else the most layers that fit at the requested context; the plan's every buffer, and the margin it kept.
 */
export function fitLlamaCppCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): void {
  const p = prepare(path, args, rawArgs);
  const capacity = p.device.capacity.value;
  if (capacity === null) throw new UsageError(`--device ${p.device.id}: fit needs a GPU with a known capacity`);
  const budget = capacity - FIT_MARGIN;
  const at = (s: LlamaCppSettings) => reportOf(p, s);
  const fits = (s: LlamaCppSettings) => at(s).memory!.total <= budget;
  const nLayer = blockCount(p.gguf);
  let plan: LlamaCppSettings | undefined;
  let why: string;
  const all = { ...p.settings, gpuLayers: "all" as const };
  // llama.cpp --fit changes only what the user left unset: the context (down to fit_params_min_ctx = 4096), then layers.
  const minCtx = p.ctxGiven ? p.settings.ctx : 4096;
  if (p.ctxGiven && !p.nglGiven && fits(all)) {
    plan = all;
    why = `every layer on the GPU at the given context`;
  } else if (!p.ctxGiven && !p.nglGiven && fits({ ...all, ctx: minCtx })) {
    // Every layer fits at the minimum context: grow the context (in llama.cpp's steps of 256) up to the training context.
    const train = Math.max(minCtx, Number(p.gguf.metadata[`${String(p.gguf.metadata["general.architecture"])}.context_length`] ?? minCtx));
    let lo = minCtx;
    let hi = train;
    if (fits({ ...all, ctx: hi })) lo = hi;
    else {
      while (hi - lo > 256) {
        const mid = Math.floor((lo + hi) / 512) * 256;
        if (mid <= lo) break;
        if (fits({ ...all, ctx: mid })) lo = mid;
        else hi = mid;
      }
    }
    plan = { ...all, ctx: lo };
    why = lo === train ? "every layer on the GPU at the model's full training context" : `every layer on the GPU; the context is the largest (in steps of 256) that keeps the margin`;
  } else {
    const ctx = p.ctxGiven ? p.settings.ctx : minCtx;
    let best = -1;
    for (let n = nLayer + 1; n >= 0; n--) {
      if (fits({ ...p.settings, ctx, gpuLayers: n })) {
        best = n;
        break;
      }
    }
    plan = best >= 0 ? { ...p.settings, ctx, gpuLayers: best } : undefined;
    why = best > nLayer ? "every layer and the output on the GPU" : best >= 0 ? `${best} of ${nLayer} layers on the GPU at ${ctx} tokens of context; the rest run on the CPU` : "not even the context fits beside the CUDA context";
  }
  const report = plan ? at(plan) : undefined;
  const result = {
    device: p.device.id,
    capacity,
    margin: FIT_MARGIN,
    marginWhy: "llama.cpp --fit keeps 1024 MiB free per device by default (--fit-target)",
    fits: plan !== undefined,
    why,
    plan: plan ? { ctx: report!.memory!["llamacpp"] && (report!.memory!["llamacpp"] as Record<string, unknown>)["nCtx"], gpuLayers: plan.gpuLayers, flags: (report!.memory!["llamacpp"] as Record<string, unknown>)["flags"] } : null,
    total: report?.memory!.total ?? null,
    buffers: report?.memory!["buffers"] ?? [],
    cudaContext: { bytes: p.device.contextLazy.value, note: `${p.device.contextLazy.note}; llama.cpp's own CUDA context is unmeasured` },
  };
  if (args["json"]) printOut(JSON.stringify(result) + "\n");
  else {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
    printOut(plan ? `${p.file} on ${p.device.name}: ${why} (${result.plan!.flags}), ${gib(result.total!)} of ${gib(capacity)} with a ${gib(FIT_MARGIN)} margin\n` : `${p.file} does not fit on ${p.device.name}: ${why}\n`);
    for (const w of p.warnings) printOut(`warning: ${w}\n`);
  }
}

function blockCount(g: GgufFile): number {
  const v = g.metadata[`${String(g.metadata["general.architecture"])}.block_count`];
  return typeof v === "number" ? v : 0;
}
