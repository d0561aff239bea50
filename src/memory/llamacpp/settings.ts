/**
 * llama.cpp's settings as its command line spells them (common/arg.cpp): -c/--ctx-size, -np/--parallel,
 * -b/--batch-size, -ub/--ubatch-size, -fa on|off|auto, -ctk/-ctv, --no-mmap, -ngl/--gpu-layers, --kv-unified,
 * --swa-full, with llama.cpp's defaults.
 */
import { UsageError } from "../../errors.js";
import type { CpuIsa } from "../cpu.js";

/** ggml_type codes and block layouts of the KV cache types -ctk/-ctv accept ([elements per block, bytes]). */
export const KV_CACHE_TYPES: Record<string, { code: number; block: number; bytes: number }> = {
  f32: { code: 0, block: 1, bytes: 4 },
  f16: { code: 1, block: 1, bytes: 2 },
  bf16: { code: 30, block: 1, bytes: 2 },
  q8_0: { code: 8, block: 32, bytes: 34 },
  q4_0: { code: 2, block: 32, bytes: 18 },
  q4_1: { code: 3, block: 32, bytes: 20 },
  iq4_nl: { code: 20, block: 32, bytes: 18 },
  q5_0: { code: 6, block: 32, bytes: 22 },
  q5_1: { code: 7, block: 32, bytes: 24 },
};

export interface LlamaCppSettings {
  /** -c: 0 takes the model's training context. */
  ctx: number;
  parallel: number;
  batch: number;
  ubatch: number;
  fa: "on" | "off" | "auto";
  typeK: string;
  typeV: string;
  mmap: boolean;
  kvUnified: boolean;
  swaFull: boolean;
  /** -ngl: repeating layers on the GPU ("all": every layer and the output). */
  gpuLayers: number | "all";
  /** The CPU backend variant whose weight repacking is modelled (--cpu). */
  cpu: CpuIsa;
}

/**
 * llama.cpp's defaults (common_params): -np 1, -b 2048, -ub 512, -fa auto, f16 KV, mmap on. The context is the
 * exception: llama.cpp's -c 0 takes the model's training context (then --fit shrinks it to what fits); memlens
 * estimates -c 4096 when none is given, and says so.
 */
export const LLAMACPP_DEFAULTS: Omit<LlamaCppSettings, "cpu"> = {
  ctx: 4096,
  parallel: 1,
  batch: 2048,
  ubatch: 512,
  fa: "auto",
  typeK: "f16",
  typeV: "f16",
  mmap: true,
  kvUnified: false,
  swaFull: false,
  gpuLayers: 0,
};

/** The llama.cpp flags analyze and fit accept: [long name, short alias, kind]. */
export const LLAMACPP_FLAGS = [
  ["ctx-size", "c", "int"],
  ["parallel", "np", "int"],
  ["batch-size", "b", "int"],
  ["ubatch-size", "ub", "int"],
  ["flash-attn", "fa", "string"],
  ["cache-type-k", "ctk", "string"],
  ["cache-type-v", "ctv", "string"],
  ["no-mmap", "", "bool"],
  ["gpu-layers", "ngl", "string"],
  ["kv-unified", "kvu", "bool"],
  ["swa-full", "", "bool"],
] as const;

function intValue(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} expects an integer >= ${min}, got '${text}'`);
  return Number(text);
}

/**
 * The llama.cpp flags a user gave: only those set. The rest take LLAMACPP_DEFAULTS, and `fit` changes only what
 * was left unset (-c, -ngl), as llama.cpp's --fit does. The context may also come as the `ctx` dimension
 * (pipeline/settings.ts), the parallel sequences as the batch.
 */
export type LlamaCppFlags = Partial<Omit<LlamaCppSettings, "cpu">>;

/**
 * Read llama.cpp flags out of raw argv (`-c 8192`, `--ctx-size=8192`, `-fa on`). Returns the flags given and
 * the argv with those flags removed, so the rest goes to memlens's own parser.
 */
export function parseLlamaFlags(argv: readonly string[]): { flags: LlamaCppFlags; rest: string[] } {
  const flags: LlamaCppFlags = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const head = eq > 0 ? a.slice(0, eq) : a;
    // Long names take two dashes, short aliases one, as llama.cpp spells them.
    const flag = LLAMACPP_FLAGS.find(([long, short]) => head === `--${long}` || (short !== "" && head === `-${short}`));
    if (!flag) {
      rest.push(a);
      continue;
    }
    const [long, , kind] = flag;
    if (kind === "bool") {
      if (long === "no-mmap") flags.mmap = false;
      else if (long === "kv-unified") flags.kvUnified = true;
      else flags.swaFull = true;
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${long} needs a value`);
    apply(flags, long, value);
  }
  return { flags, rest };
}

function apply(s: LlamaCppFlags, long: string, value: string): void {
  const flag = `--${long}`;
  switch (long) {
    case "ctx-size": s.ctx = intValue(flag, value, 0); break;
    case "parallel": s.parallel = intValue(flag, value, 1); break;
    case "batch-size": s.batch = intValue(flag, value, 1); break;
    case "ubatch-size": s.ubatch = intValue(flag, value, 1); break;
    case "flash-attn": {
      const v = value.toLowerCase();
      if (v !== "on" && v !== "off" && v !== "auto") throw new UsageError(`${flag} expects on, off or auto, got '${value}'`);
      s.fa = v;
      break;
    }
    case "cache-type-k":
    case "cache-type-v": {
      const v = value.toLowerCase();
      if (!KV_CACHE_TYPES[v]) throw new UsageError(`${flag} ${value}: llama.cpp's KV cache types are ${Object.keys(KV_CACHE_TYPES).join(", ")}`);
      if (long === "cache-type-k") s.typeK = v;
      else s.typeV = v;
      break;
    }
    case "gpu-layers": s.gpuLayers = value === "all" || value === "auto" ? "all" : intValue(flag, value, 0); break;
  }
}

/** The settings as a llama.cpp command line would carry them (for reports). */
export function llamaFlagsText(s: LlamaCppSettings): string {
  const p = [`-c ${s.ctx}`, `-np ${s.parallel}`, `-b ${s.batch}`, `-ub ${s.ubatch}`, `-fa ${s.fa}`, `-ctk ${s.typeK}`, `-ctv ${s.typeV}`];
  if (!s.mmap) p.push("--no-mmap");
  if (s.kvUnified) p.push("--kv-unified");
  if (s.swaFull) p.push("--swa-full");
  if (s.gpuLayers !== 0) p.push(`-ngl ${s.gpuLayers}`);
  return p.join(" ");
}
