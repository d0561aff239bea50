/**
 * The CPU as a device property: which instruction set the CPU runtimes' kernels dispatch to. ONNX Runtime's
 * MLAS and llama.cpp pick kernels, blocked layouts and weight packings by the CPU's features when the
 * process starts, so the same model takes different memory on different machines.
 *
 * The ISA names follow MLAS's own dispatch tiers (onnxruntime/core/mlas/lib/platform.cpp,
 * MLAS_PLATFORM::MLAS_PLATFORM):
 * - avx2: AVX2 + FMA (its FMA3 kernels);
 * - avx512: AVX512F (its AVX512F kernels, NchwcBlockSize 16; the BW/DQ/VL and VNNI tiers change only
 *   which integer GEMM kernel runs, not sizes);
 * - amx: AVX512F plus AMX-TILE and AMX-INT8 (MlasGemmU8S8DispatchAmx for u8s8 GEMMs);
 * - neon: AArch64 (ASIMD);
 * - generic: a CPU memlens cannot tell (no /proc/cpuinfo, a browser, another architecture).
 *
 * Browser-safe: no Node import at module level; the host probe reaches node:fs through
 * process.getBuiltinModule only when it exists.
 */
import { UsageError } from "../errors.js";

export type CpuIsa = "avx2" | "avx512" | "amx" | "neon" | "generic";

export const CPU_ISAS: readonly CpuIsa[] = ["avx2", "avx512", "amx", "neon", "generic"];

export interface HostCpu {
  /** `model name` from /proc/cpuinfo ("" when unknown). */
  model: string;
  /** The feature flags as the OS lists them (x86 `flags`, AArch64 `Features`), lower case. */
  flags: string[];
  isa: CpuIsa;
  /** Where the answer came from: "/proc/cpuinfo", or why it is generic. */
  source: string;
}

/** `--cpu VALUE`: one of CPU_ISAS (case-insensitive). */
export function parseCpuIsa(text: string): CpuIsa {
  const v = text.trim().toLowerCase() as CpuIsa;
  if (!CPU_ISAS.includes(v)) throw new UsageError(`--cpu ${text}: expected one of ${CPU_ISAS.join(", ")}`);
  return v;
}

/** The MLAS dispatch tier a set of /proc/cpuinfo flags selects (arch: Node's process.arch). */
export function isaFromFlags(flags: readonly string[], arch: string): CpuIsa {
  const has = new Set(flags.map((f) => f.toLowerCase()));
  if (arch === "arm64" || arch === "aarch64") return "neon";
  if (arch !== "x64" && arch !== "x86_64" && arch !== "ia32") return "generic";
  if (has.has("avx512f")) return has.has("amx_tile") && has.has("amx_int8") ? "amx" : "avx512";
  if (has.has("avx2") && has.has("fma")) return "avx2";
  return "generic";
}

/** The first processor's model name and flags from the text of /proc/cpuinfo. */
export function parseCpuinfo(text: string, arch: string): HostCpu {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, "mi").exec(text);
    return m ? m[1]!.trim() : undefined;
  };
  const model = field("model name") ?? field("Hardware") ?? field("CPU part") ?? "";
  const flags = (field("flags") ?? field("Features") ?? "").split(/\s+/).filter((f) => f !== "").map((f) => f.toLowerCase());
  return { model, flags, isa: isaFromFlags(flags, arch), source: "/proc/cpuinfo" };
}

let cached: HostCpu | undefined;

/** This machine's CPU (read once per process). */
export function hostCpu(): HostCpu {
  if (cached) return cached;
  cached = probeHost();
  return cached;
}

function probeHost(): HostCpu {
  const proc = (globalThis as { process?: { arch?: string; platform?: string; getBuiltinModule?: (id: string) => unknown } }).process;
  const generic = (why: string): HostCpu => ({ model: "", flags: [], isa: "generic", source: why });
  if (!proc?.getBuiltinModule) return generic("no host probe here (a browser, or Node before 20.16)");
  const arch = proc.arch ?? "";
  if (proc.platform !== "linux") {
    // Apple silicon and Windows on ARM have NEON by definition; x86 hosts other than Linux are not probed.
    return arch === "arm64" ? { model: "", flags: [], isa: "neon", source: `${proc.platform} on arm64` } : generic(`${proc.platform}: /proc/cpuinfo not available`);
  }
  try {
    const fs = proc.getBuiltinModule("node:fs") as { readFileSync(path: string, enc: "utf8"): string };
    return parseCpuinfo(fs.readFileSync("/proc/cpuinfo", "utf8"), arch);
  } catch {
    return generic("/proc/cpuinfo could not be read");
  }
}

/** The CPU a report names: --cpu as given, else this machine's (generic where it cannot tell), and where it came from. */
export function cpuChoice(cpu: CpuIsa | undefined): { cpu: CpuIsa; cpuFrom: string } {
  if (cpu !== undefined) return { cpu, cpuFrom: "--cpu" };
  const h = hostCpu();
  return { cpu: h.isa, cpuFrom: h.isa === "generic" ? `this machine: ${h.source}` : `${h.model || "this machine"} (this machine)` };
}
