/**
 * analyze / fit for LLMs given as a hub folder, config.json, safetensors or GGUF (no ONNX graph): the
 * architecture model in src/llm/. Same Report, same renderers, same JSON contract as ONNX models.
 */
import { UsageError } from "../errors.js";
import { estimateLlm, llmReport, type LlmSettings } from "../llm/estimate.js";
import { llmTrainMemory, llmTrainReport, type LlmTrainSettings } from "../llm/train.js";
import { llmInputFiles, openLlm } from "../llm/source.js";
import type { AttnImpl } from "../llm/program.js";
import { findDevice } from "../memory/devices.js";
import { OutOfMemory } from "../memory/torch/caching-allocator.js";
import { renderExplanation } from "../report/explain.js";
import { largestThatFits } from "../memory/fit-search.js";
import { analyzeOptions, parseDimSpec, positiveInt, repeated } from "./options.js";
import { checkReportFiles, reportFiles, writeJsonFile, writeReportFiles } from "./report-files.js";
import { printOut } from "./print.js";

/** The prompt length when none is given: stated in a warning, never silent. */
export const DEFAULT_SEQ = 512;

function given(rawArgs: readonly string[], name: string): boolean {
  return rawArgs.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/** --mode train's settings: the model's forward settings plus the optimizer and the training options. */
export function llmTrainSettings(args: Record<string, unknown>, rawArgs: readonly string[], warnings: string[], maxPositions?: number): LlmTrainSettings {
  const s = llmSettings(args, rawArgs, undefined, warnings, maxPositions);
  return {
    batch: s.batch,
    seq: s.seq,
    dtype: s.dtype,
    attn: s.attn,
    device: s.device,
    ...(typeof args["optimizer"] === "string" && args["optimizer"] !== "" ? { optimizer: args["optimizer"] } : {}),
    train: analyzeOptions(args, rawArgs).train ?? {},
  };
}

const isTrain = (args: Record<string, unknown>): boolean => String(args["mode"] ?? "inference") === "train";

/**
 * `maxPositions`: the model's position table. With no --dim seq, the prompt is DEFAULT_SEQ tokens, or as many
 * as the model has positions for (less the new tokens) when it has fewer, and the warning says which.
 */
export function llmSettings(args: Record<string, unknown>, rawArgs: readonly string[], savedDtype: string | undefined, warnings: string[], maxPositions?: number): LlmSettings {
  const dims = Object.fromEntries(repeated(rawArgs, "dim").map(parseDimSpec));
  let seq = dims["seq"];
  if (seq === undefined) {
    const room = maxPositions !== undefined ? maxPositions - (positiveInt(args["new-tokens"] as string | undefined, "--new-tokens") ?? (String(args["mode"]) === "generate" ? 128 : 0)) : DEFAULT_SEQ;
    if (room < 1) throw new UsageError(`the model has ${maxPositions} positions: no room for a prompt with the new tokens (lower --new-tokens)`);
    seq = Math.min(DEFAULT_SEQ, room);
    warnings.push(
      seq === DEFAULT_SEQ
        ? `sequence length not set: using ${DEFAULT_SEQ} tokens, the default (set it with --dim seq=N)`
        : `sequence length not set: using ${seq} tokens, the most the model's ${maxPositions} positions allow (the default is ${DEFAULT_SEQ}; set it with --dim seq=N)`,
    );
  }
  // Training keeps fp32 master weights: --dtype fp16|bf16 is autocast over them, fp32 when not given.
  const fromFile = savedDtype === "float16" ? "fp16" : savedDtype === "bfloat16" ? "bf16" : "fp32";
  const dtype = given(rawArgs, "dtype") ? String(args["dtype"]) : fromFile;
  if (dtype !== "fp32" && dtype !== "fp16" && dtype !== "bf16") throw new UsageError(`--dtype ${dtype}: transformers run fp32, fp16 or bf16`);
  const mode = isTrain(args) ? "inference" : String(args["mode"] ?? "inference");
  if (mode !== "inference" && mode !== "generate") {
    throw new UsageError(`--mode ${mode}: for config.json/safetensors/GGUF models, inference, generate or train`);
  }
  const attn = String(args["attn"] ?? "sdpa");
  if (attn !== "eager" && attn !== "sdpa" && attn !== "flash") throw new UsageError(`--attn ${attn}: eager, sdpa or flash`);
  const runtime = String(args["runtime"] ?? "pytorch-cuda");
  if (runtime !== "pytorch-cuda") throw new UsageError(`--runtime ${runtime}: config.json/safetensors models are estimated for pytorch-cuda, GGUF files for llama.cpp (their default) or pytorch-cuda`);
  return {
    batch: positiveInt(args["batch"] as string | undefined, "--batch") ?? dims["batch"] ?? 1,
    seq,
    dtype,
    device: String(args["device"] ?? "h100"),
    mode,
    newTokens: positiveInt(args["new-tokens"] as string | undefined, "--new-tokens") ?? (mode === "generate" ? 128 : 0),
    attn: attn as AttnImpl,
  };
}

export async function analyzeLlmCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): Promise<void> {
  const files = reportFiles(args, rawArgs, llmInputFiles(path));
  checkReportFiles(files);
  const src = openLlm(path);
  const warnings: string[] = [];
  const settings = llmSettings(args, rawArgs, isTrain(args) ? undefined : src.arch.savedDtype, warnings, src.arch.maxPositions);
  if (isTrain(args) && !given(rawArgs, "dtype") && src.arch.savedDtype !== undefined && src.arch.savedDtype !== "float32") {
    warnings.push(`training with fp32 master weights (the checkpoint is ${src.arch.savedDtype}): --dtype fp16|bf16 for autocast mixed precision`);
  }
  const report = isTrain(args) ? llmTrainReport(src, llmTrainSettings(args, rawArgs, [], src.arch.maxPositions)) : llmReport(src, settings);
  report.warnings.unshift(...warnings);
  printOut(args["json"] && files.json === undefined ? JSON.stringify(report) + "\n" : renderExplanation(report));
  // The batch/context sweeps are inference estimates: a training report is written without them.
  await writeReportFiles(files, report, async () => (isTrain(args) ? report : (await import("../pipeline/sweep.js")).withLlmCharts(report, src.arch, settings)));
}

/** Largest batch (or, with --solve seq, context length) whose total fits the device. */
export function fitLlmCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): void {
  const files = reportFiles(args, rawArgs, llmInputFiles(path));
  checkReportFiles(files);
  const src = openLlm(path);
  const warnings: string[] = [];
  const base = llmSettings(args, rawArgs, isTrain(args) ? undefined : src.arch.savedDtype, warnings, src.arch.maxPositions);
  const train = isTrain(args) ? llmTrainSettings(args, rawArgs, [], src.arch.maxPositions) : undefined;
  const device = findDevice(base.device);
  const capacity = device?.capacity.value;
  if (!device || capacity === null || capacity === undefined) throw new UsageError(`--device ${base.device}: fit needs a GPU with a known capacity`);
  const solveSeq = String(args["solve"] ?? "batch") === "seq";
  const total = (n: number): number | undefined => {
    const s = solveSeq ? { ...base, seq: n } : { ...base, batch: n };
    try {
      if (train) return llmTrainMemory(src.arch, { ...train, batch: s.batch, seq: s.seq }, capacity).result.memory.total;
      return estimateLlm(src.arch, s, capacity).memory.total;
    } catch (e) {
      if (e instanceof OutOfMemory || e instanceof UsageError) return undefined;
      throw e;
    }
  };
  // A context past the model's positions is not a context it can run.
  const limit = solveSeq ? src.arch.maxPositions - base.newTokens : 1 << 24;
  const { max: lo, total: atMax } = largestThatFits(total, capacity, limit);
  const key = solveSeq ? "maxContext" : "maxBatch";
  const result = { device: device.id, capacity, [key]: lo, total: atMax };
  writeJsonFile(files, result);
  if (args["json"] && files.json === undefined) printOut(JSON.stringify(result) + "\n");
  else {
    const what = solveSeq ? `context of ${lo} tokens at batch ${base.batch}` : `batch ${lo} at ${base.seq} tokens`;
    printOut(
      lo > 0
        ? `${src.file} on ${device.name}: the largest ${what} fits, using ${(result.total / 2 ** 30).toFixed(2)} GiB of ${(capacity / 2 ** 30).toFixed(2)} GiB\n`
        : `${src.file} does not fit on ${device.name} even at ${solveSeq ? "1 token" : "batch 1"}\n`,
    );
    for (const w of warnings) printOut(`warning: ${w}\n`);
  }
}
