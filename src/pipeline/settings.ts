/**
 * One settings object for every kind of model, with its defaults and validation. The CLI (cli/options.ts,
 * cli/llm.ts), the library and the web page all fill an EstimateSettings; this module turns it into what each
 * kind of source needs (an ONNX analysis's options, a transformer architecture's LlmSettings).
 */
import type { AnalyzeOptions } from "../analyze.js";
import { UsageError } from "../errors.js";
import { parseDType } from "../graph/dtype.js";
import type { LlmSettings } from "../llm/estimate.js";
import type { AttnImpl } from "../llm/program.js";
import type { LlmTrainSettings } from "../llm/train.js";
import type { SourceKind } from "../contract/source.js";
import { cpuChoice } from "../memory/cpu.js";
import { findDevice, type Device } from "../memory/devices.js";
import { LLAMACPP_DEFAULTS, type LlamaCppFlags, type LlamaCppSettings } from "../memory/llamacpp/settings.js";
import { runtimeSpec } from "../memory/runtime-table.js";

export const DEFAULTS = {
  batch: 1,
  runtime: "pytorch-cuda",
  device: "h100",
  mode: "inference",
  attn: "sdpa" as AttnImpl,
  /** A transformer's prompt length when none is given: stated in a warning, never silent. */
  seq: 512,
  /** Tokens `--mode generate` decodes when none is given. */
  newTokens: 128,
} as const;

/** The runtime each kind of model gets when none is chosen: a GGUF file runs on llama.cpp, as its users run it. */
export const DEFAULT_RUNTIME: Record<SourceKind, string> = { onnx: DEFAULTS.runtime, transformer: DEFAULTS.runtime, gguf: "llama.cpp" };

/**
 * Every setting of an estimate. An ONNX analysis's options (analyze.ts AnalyzeOptions: batch, dtype, runtime,
 * device, mode, dims, inputs, training and runtime switches) plus what only a transformer architecture has.
 * Unset fields take DEFAULTS (or, for an ONNX graph, analyze.ts's own). A transformer's dtype defaults to its
 * checkpoint's type.
 */
export interface EstimateSettings extends Omit<AnalyzeOptions, "openExternal" | "memory"> {
  /** Transformers: the attention implementation of the eager program. */
  attn?: string;
  /** --mode generate: tokens decoded after the prompt. */
  newTokens?: number;
  /** --mode generate: generate(min_new_tokens=M); with an eos token transformers adds its min-length processors. */
  minNewTokens?: number;
  /** llama.cpp: its own flags as given (-c, -np, -b, -ub, -fa, -ctk/-ctv, --no-mmap, -ngl, --kv-unified, --swa-full). */
  llamacpp?: LlamaCppFlags;
}

/** An ONNX analysis's options at these settings. */
export function analyzeOptionsOf(s: EstimateSettings): AnalyzeOptions {
  const { attn: _attn, newTokens: _newTokens, minNewTokens: _minNewTokens, llamacpp: _llamacpp, ...onnx } = s;
  return onnx;
}

/** The types eager PyTorch runs a transformer in: fp32, or fp16/bf16 (for training, autocast over fp32 masters). */
export function eagerDType(name: string, what: string): "fp32" | "fp16" | "bf16" {
  const t = parseDType(name);
  if (t === "float32") return "fp32";
  if (t === "float16") return "fp16";
  if (t === "bfloat16") return "bf16";
  throw new UsageError(`--dtype ${name}: ${what} run fp32, fp16 or bf16`);
}

/**
 * A transformer architecture's settings. `arch.savedDtype` is the checkpoint's own type, used when --dtype is not
 * given (not when `training`: training keeps fp32 master weights); `arch.maxPositions` bounds the default prompt.
 * Defaults that change a number are said in `warnings`.
 */
export function llmSettingsOf(s: EstimateSettings, arch: { savedDtype?: string | undefined; maxPositions: number }, warnings: string[], training = false): LlmSettings {
  const savedDtype = training ? undefined : arch.savedDtype;
  const train = s.mode === "train";
  const mode = train ? "inference" : s.mode ?? DEFAULTS.mode;
  const newTokens = s.newTokens ?? (mode === "generate" ? DEFAULTS.newTokens : 0);
  let seq = s.dims?.["seq"];
  if (seq === undefined) {
    // The default prompt, or as many tokens as the model has positions for (less the new tokens) when fewer.
    const room = arch.maxPositions - newTokens;
    if (room < 1) throw new UsageError(`the model has ${arch.maxPositions} positions: no room for a prompt with the new tokens (lower --new-tokens)`);
    seq = Math.min(DEFAULTS.seq, room);
    warnings.push(
      seq === DEFAULTS.seq
        ? `sequence length not set: using ${DEFAULTS.seq} tokens, the default (set it with --dim seq=N)`
        : `sequence length not set: using ${seq} tokens, the most the model's ${arch.maxPositions} positions allow (the default is ${DEFAULTS.seq}; set it with --dim seq=N)`,
    );
  }
  const fromFile = savedDtype === "float16" ? "fp16" : savedDtype === "bfloat16" ? "bf16" : "fp32";
  const dtype = s.dtype !== undefined ? eagerDType(s.dtype, "transformers") : fromFile;
  if (mode !== "inference" && mode !== "generate") {
    throw new UsageError(`--mode ${mode}: for config.json/safetensors/GGUF models, inference, generate or train`);
  }
  const attn = s.attn ?? DEFAULTS.attn;
  if (attn !== "eager" && attn !== "sdpa" && attn !== "flash") throw new UsageError(`--attn ${attn}: eager, sdpa or flash`);
  return {
    batch: s.batch ?? s.dims?.["batch"] ?? DEFAULTS.batch,
    seq,
    dtype,
    device: s.device ?? DEFAULTS.device,
    mode,
    newTokens,
    attn,
    ...(s.minNewTokens !== undefined ? { minNewTokens: s.minNewTokens } : {}),
  };
}

/** `--mode train` on a transformer architecture: the forward's settings, the optimizer and the training options. */
export function llmTrainSettingsOf(s: EstimateSettings, arch: { maxPositions: number }, warnings: string[]): LlmTrainSettings {
  const f = llmSettingsOf(s, arch, warnings, true);
  return {
    batch: f.batch,
    seq: f.seq,
    dtype: f.dtype,
    attn: f.attn,
    device: f.device,
    ...(s.optimizer !== undefined && s.optimizer !== "" ? { optimizer: s.optimizer } : {}),
    train: s.train ?? {},
  };
}

/** A GGUF on llama.cpp: its settings, the device, how the CPU was chosen, and which of -c / -ngl the user gave. */
export interface LlamaCppChoice {
  settings: LlamaCppSettings;
  device: Device;
  cpuFrom: string;
  ctxGiven: boolean;
  nglGiven: boolean;
}

/**
 * llama.cpp's settings: its flags as given over llama.cpp's defaults; the context from -c or the `ctx` dimension,
 * the parallel sequences from -np or the batch; the host's CPU variant unless --cpu; on a GPU every layer
 * offloaded unless -ngl (llama.cpp's default -ngl auto puts all that fit; fit finds how many). The GGUF's own
 * tensor types run: --dtype is refused rather than ignored. Defaults that change a number are said in `warnings`.
 */
export function llamaCppSettingsOf(s: EstimateSettings, warnings: string[]): LlamaCppChoice {
  const flags = s.llamacpp ?? {};
  if (s.dtype !== undefined && s.dtype !== "fp32") throw new UsageError(`--dtype ${s.dtype}: llama.cpp runs the GGUF's own tensor types (-ctk/-ctv choose the KV cache's)`);
  if (s.mode !== undefined && s.mode !== "inference") throw new UsageError(`--mode ${s.mode}: llama.cpp is estimated for inference (its KV cache holds -c tokens; --runtime pytorch-cuda for --mode ${s.mode})`);
  const { cpu, cpuFrom } = cpuChoice(s.cpu);
  const deviceId = s.device ?? runtimeSpec("llama.cpp").defaultDevice;
  const device = findDevice(deviceId);
  if (!device) throw new UsageError(`--device ${deviceId}: unknown device`);
  const isGpu = device.capacity.value !== null;
  const nglGiven = flags.gpuLayers !== undefined;
  if (!isGpu && nglGiven && flags.gpuLayers !== 0) throw new UsageError(`-ngl ${flags.gpuLayers}: layers go to a GPU; name one with --device (e.g. --device rtx4090)`);
  const ctx = flags.ctx ?? s.dims?.["ctx"];
  if (ctx === undefined) warnings.push(`context not set: using -c ${LLAMACPP_DEFAULTS.ctx} (llama.cpp's own default, -c 0, takes the model's training context, which its --fit may shrink; set it with -c N)`);
  if (cpu === "amx" || cpu === "neon") warnings.push(`--cpu ${cpu}: its weight packing is modelled from ggml-cpu's source, not measured (the measured CPU is AVX-512, CPU_REPACK)`);
  const settings: LlamaCppSettings = {
    ...LLAMACPP_DEFAULTS,
    ...flags,
    ctx: ctx ?? LLAMACPP_DEFAULTS.ctx,
    parallel: flags.parallel ?? s.batch ?? LLAMACPP_DEFAULTS.parallel,
    gpuLayers: flags.gpuLayers ?? (isGpu ? "all" : 0),
    cpu,
  };
  return { settings, device, cpuFrom, ctxGiven: ctx !== undefined, nglGiven };
}
