/** Options shared by analyze/layers/fit, and their parsing (repeatable --input/--dim read from raw argv). */
import { InputError, UsageError } from "../errors.js";
import type { EstimateSettings } from "../pipeline/settings.js";
import { type Dim } from "../sym/expr.js";
import { parseDim } from "../sym/parse.js";
import { MAX_DECLARED_DIM } from "../graph/limits.js";
import type { AnalyzeOptions } from "../analyze.js";
import type { TrainSettings } from "../memory/train/report.js";
import { CPU_ISAS, parseCpuIsa } from "../memory/cpu.js";
import { WEBGPU_PRESET_NAMES, parseWebGpuLimits, webGpuPreset, type WebGpuLimits } from "../memory/ort-webgpu/limits.js";
import { FileSource } from "../formats/source-node.js";
import { parseLlamaFlags } from "../memory/llamacpp/settings.js";
import { DEVICES } from "../memory/devices.js";
import { ALL_DTYPES, devicesFor, MODES, RUNTIME_IDS, runtimeSpec, type RuntimeSpec } from "../memory/runtime-table.js";

/** Help text generated from the runtime table: "pytorch-cuda X; ort-cpu Y". */
function perRuntime(what: (r: RuntimeSpec) => string): string {
  return RUNTIME_IDS.map((id) => `${id} ${what(runtimeSpec(id))}`).join("; ");
}

// Mutable copies: citty's enum options are string[].
const DTYPE_CHOICES: string[] = [...ALL_DTYPES];
const RUNTIME_CHOICES: string[] = [...RUNTIME_IDS];
const DEVICE_CHOICES: string[] = DEVICES.map((d) => d.id);
const MODE_CHOICES: string[] = [...MODES];

export const sharedArgs = {
  model: { type: "positional", description: "model: .onnx, a hub folder or config.json (+ safetensors), or .gguf", required: true },
  batch: { type: "string", description: "batch size (binds each input's leading symbolic dim)" },
  input: { type: "string", description: "input shape override NAME=D0xD1x... (repeatable)" },
  dim: { type: "string", description: "symbol value NAME=N, e.g. seq=512 (repeatable)" },
  dtype: { type: "enum", options: DTYPE_CHOICES, description: `the cast of the model's floats: ${perRuntime((r) => r.dtypes.join("|"))}`, default: "fp32" },
  runtime: { type: "enum", options: RUNTIME_CHOICES, description: RUNTIME_IDS.map((id) => `${id}: ${runtimeSpec(id).description.split(/[:(]/)[0]!.trim()}`).join("; "), default: "pytorch-cuda" },
  value: { type: "string", description: "value of an integer/bool input NAME=V, e.g. sr=16000 (repeatable; it can pick an If branch)" },
  "webgpu-limits": { type: "string", description: `ort-webgpu: the adapter's buffer limits, a JSON FILE ({"maxBufferSize": N, "maxStorageBufferBindingSize": N}) or a preset: ${WEBGPU_PRESET_NAMES.join("|")} (default: WebGPU's defaults)` },
  device: { type: "enum", options: DEVICE_CHOICES, description: `${perRuntime((r) => `${devicesFor(r).join("|")} (default ${r.defaultDevice})`)}` },
  cpu: { type: "string", description: `CPU runtimes: the instruction set, ${CPU_ISAS.join("|")} (default: this machine's)` },
  mode: { type: "enum", options: MODE_CHOICES, description: `${perRuntime((r) => r.modes.join("|"))}; generate: LLMs (hub folder, config.json, GGUF), with the KV cache`, default: "inference" },
  optimizer: { type: "string", description: "sgd|momentum|adam|adamw" },
  json: { type: "boolean", description: "print the JSON contract (--json=FILE: write it to FILE)" },
  force: { type: "boolean", description: "--json=FILE/--html FILE: replace a read-only file" },
  "new-tokens": { type: "string", description: "--mode generate: tokens to generate, generate(max_new_tokens=N) (default 128)" },
  "min-new-tokens": { type: "string", description: "--mode generate: generate(min_new_tokens=N): with an eos token, transformers' MinLength and MinNewTokensLength logits processors run every step" },
  eos: { type: "string", description: "--mode generate: the eos token id(s), ID[,ID...], or none (default: config.json's eos_token_id)" },
  attn: { type: "string", description: "transformers: attention implementation eager|sdpa|flash (default sdpa)" },
  "cudnn-benchmark": { type: "boolean", description: "pytorch-cuda: torch.backends.cudnn.benchmark=True" },
  "cuda-module-loading": { type: "string", description: "pytorch-cuda: lazy|eager (CUDA_MODULE_LOADING; lazy is PyTorch's default)" },
  checkpointing: { type: "boolean", description: "train: gradient checkpointing per block" },
  "lora-rank": { type: "string", description: "train: LoRA adapters of rank R on every Linear, base frozen" },
  qlora: { type: "boolean", description: "train: with --lora-rank, 4-bit NF4 base weights" },
  zero: { type: "string", description: "train: DeepSpeed ZeRO stage 1|2|3" },
  fsdp: { type: "string", description: "train: PyTorch FSDP full|hybrid" },
  gpus: { type: "string", description: "train: GPUs in all (DDP when no --zero/--fsdp)" },
  "gpus-per-node": { type: "string", description: "train: GPUs per node (FSDP hybrid shard)" },
  tp: { type: "string", description: "train: tensor-parallel degree" },
  offload: { type: "string", description: "train, ZeRO: none|optimizer|optimizer+params" },
} as const;

/** All values of a repeatable `--name VALUE` / `--name=VALUE` option. */
export function repeated(rawArgs: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

export function positiveInt(text: string | undefined, what: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be a positive integer, got '${text}'`);
  }
  return Number(text);
}

export function parseInputSpec(spec: string): [string, Dim[]] {
  const eq = spec.lastIndexOf("=");
  if (eq <= 0) throw new UsageError(`--input expects NAME=D0xD1x..., got '${spec}'`);
  const name = spec.slice(0, eq);
  const dims = spec.slice(eq + 1).split(/[x,]/).map((d) => {
    if (/^\d+$/.test(d)) {
      // Well-formed but past the limit a file may declare: a bad value (exit 2), as the same dim in a file is.
      if (Number(d) > MAX_DECLARED_DIM) throw new InputError(`--input ${spec}: dimension ${d} is over the limit of ${MAX_DECLARED_DIM} (2^31-1)`);
      return Number(d);
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) return parseDim(d);
    throw new UsageError(`--input ${spec}: '${d}' is not a dimension`);
  });
  return [name, dims];
}

/**
 * --dim NAME=N. NAME is any dimension name a model uses, as memlens prints it: exporters write dots, colons and
 * spaces (paddle2onnx's `p2o.DynamicDimension.1`, `batch:0`, `sequence length`); the value is after the last `=`.
 */
export function parseDimSpec(spec: string): [string, number] {
  const eq = spec.lastIndexOf("=");
  const name = eq > 0 ? spec.slice(0, eq) : "";
  if (name.trim() === "") throw new UsageError(`--dim expects NAME=N, got '${spec}'`);
  return [name, positiveInt(spec.slice(eq + 1), `--dim ${name}`)!];
}

/** --value NAME=V for an integer or bool input: an integer, or true/false. */
export function parseValueSpec(spec: string): [string, number] {
  const eq = spec.lastIndexOf("=");
  const name = eq > 0 ? spec.slice(0, eq) : "";
  const text = spec.slice(eq + 1);
  if (name.trim() === "") throw new UsageError(`--value expects NAME=V, got '${spec}'`);
  if (text === "true" || text === "false") return [name, text === "true" ? 1 : 0];
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--value ${name}: expected an integer or true/false, got '${text}'`);
  return [name, Number(text)];
}

export function analyzeOptions(args: Record<string, unknown>, rawArgs: readonly string[]): AnalyzeOptions {
  const inputs = Object.fromEntries(repeated(rawArgs, "input").map(parseInputSpec));
  const dims = Object.fromEntries(repeated(rawArgs, "dim").map(parseDimSpec));
  const batch = positiveInt(args["batch"] as string | undefined, "--batch");
  const values = Object.fromEntries(repeated(rawArgs, "value").map(parseValueSpec));
  const opts: AnalyzeOptions = { inputs, dims };
  if (Object.keys(values).length > 0) opts.values = values;
  if (batch !== undefined) opts.batch = batch;
  for (const k of ["dtype", "runtime", "device", "mode"] as const) {
    const v = args[k];
    if (typeof v === "string" && v !== "") opts[k] = v;
  }
  if (typeof args["optimizer"] === "string" && args["optimizer"] !== "") opts.optimizer = args["optimizer"];
  if (args["cudnn-benchmark"] === true) opts.cudnnBenchmark = true;
  if (typeof args["cpu"] === "string") opts.cpu = parseCpuIsa(args["cpu"]);
  if (typeof args["webgpu-limits"] === "string" && args["webgpu-limits"] !== "") opts.webgpuLimits = webGpuLimitsArg(args["webgpu-limits"]);
  const train = trainSettings(args);
  if (train !== undefined) opts.train = train;
  const loading = args["cuda-module-loading"];
  if (typeof loading === "string" && loading !== "") {
    const l = loading.toLowerCase();
    if (l !== "lazy" && l !== "eager") throw new UsageError(`--cuda-module-loading must be lazy or eager, got '${loading}'`);
    opts.cudaModuleLoading = l;
  }
  return opts;
}

/** --mode train's options; undefined when none is given. */
function trainSettings(args: Record<string, unknown>): TrainSettings | undefined {
  const t: TrainSettings = {};
  const str = (k: string): string | undefined => (typeof args[k] === "string" && args[k] !== "" ? (args[k] as string) : undefined);
  if (args["checkpointing"] === true) t.checkpointing = true;
  if (args["qlora"] === true) t.qlora = true;
  const lora = positiveInt(str("lora-rank"), "--lora-rank");
  if (lora !== undefined) t.loraRank = lora;
  const zero = str("zero");
  if (zero !== undefined) t.zero = zero;
  const fsdp = str("fsdp");
  if (fsdp !== undefined) t.fsdp = fsdp;
  for (const [k, key] of [["gpus", "gpus"], ["gpus-per-node", "gpusPerNode"], ["tp", "tp"]] as const) {
    const v = positiveInt(str(k), `--${k}`);
    if (v !== undefined) t[key] = v;
  }
  const offload = str("offload");
  if (offload !== undefined) {
    if (offload !== "none" && offload !== "optimizer" && offload !== "optimizer+params") throw new UsageError(`--offload ${offload}: expected none, optimizer or optimizer+params`);
    t.offload = offload;
  }
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (Object.keys(t).length > 0 && args["mode"] !== "train") throw new UsageError(`${Object.keys(t).map(flag).join(", ")}: training options need --mode train`);
  return Object.keys(t).length > 0 ? t : undefined;
}

/** A limits file is a few hundred bytes (GPUSupportedLimits has about 30 fields); anything larger is not one. */
const MAX_LIMITS_FILE_BYTES = 64 * 1024;

/** --webgpu-limits: a preset name, else a regular JSON file of at most MAX_LIMITS_FILE_BYTES. */
function webGpuLimitsArg(value: string): WebGpuLimits {
  const preset = webGpuPreset(value);
  if (preset) return preset;
  let src: FileSource;
  try {
    src = new FileSource(value);
  } catch {
    throw new UsageError(`--webgpu-limits ${value}: neither a preset (${WEBGPU_PRESET_NAMES.join(", ")}) nor a readable regular file`);
  }
  try {
    if (src.size > MAX_LIMITS_FILE_BYTES) throw new UsageError(`--webgpu-limits ${value}: larger than ${MAX_LIMITS_FILE_BYTES} bytes, not a limits file`);
    return parseWebGpuLimits(new TextDecoder().decode(src.read(0, src.size)), value);
  } finally {
    src.close();
  }
}

function given(rawArgs: readonly string[], name: string): boolean {
  return rawArgs.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/**
 * The command line as one EstimateSettings, for every kind of model. --dtype only when given: a transformer's
 * default is its checkpoint's type (an ONNX graph's, fp32, is the same either way). --runtime only when given:
 * each kind of model has its default (a GGUF runs on llama.cpp). llama.cpp's own flags (-c, -ngl, ...) as
 * given; cli/main.ts admits them only beside a .gguf.
 */
export function cliSettings(args: Record<string, unknown>, rawArgs: readonly string[]): EstimateSettings {
  const s: EstimateSettings = analyzeOptions(args, rawArgs);
  if (!given(rawArgs, "dtype")) delete s.dtype;
  if (!given(rawArgs, "runtime")) delete s.runtime;
  const { flags } = parseLlamaFlags(rawArgs);
  if (Object.keys(flags).length > 0) s.llamacpp = flags;
  const newTokens = positiveInt(args["new-tokens"] as string | undefined, "--new-tokens");
  if (newTokens !== undefined) s.newTokens = newTokens;
  const minNewTokens = positiveInt(args["min-new-tokens"] as string | undefined, "--min-new-tokens");
  if (minNewTokens !== undefined) {
    if (args["mode"] !== "generate") throw new UsageError("--min-new-tokens: only for --mode generate");
    s.minNewTokens = minNewTokens;
  }
  if (typeof args["attn"] === "string" && args["attn"] !== "") s.attn = args["attn"];
  return s;
}
