/**
 * The CPU property: /proc/cpuinfo texts of the machines this project has run on (their first processor's
 * lines, flags cut to the ones that decide), the --cpu values, and the report naming the CPU it assumed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hostCpu, isaFromFlags, parseCpuinfo, parseCpuIsa, CPU_ISAS } from "./cpu.js";
import { ORT_CPU_TRAITS } from "./ort/cpu-traits.js";
import { analyzeModel } from "../analyze.js";
import { loadModelFile } from "../formats/load-node.js";
import { UsageError } from "../errors.js";

const EPYC_AVX2 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2\n";
const EPYC_AVX512 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 fma avx avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni\n\nprocessor\t: 1\nmodel name\t: other\n";
const XEON_AMX = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fma avx2 avx512f avx512bw avx512vl avx512_vnni amx_bf16 amx_tile amx_int8\n";
const GRAVITON = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";

test("/proc/cpuinfo: model name, flags and the MLAS tier they select", () => {
  assert.deepEqual(parseCpuinfo(EPYC_AVX2, "x64"), { model: "AMD EPYC 7B13", flags: ["fpu", "sse", "sse2", "ssse3", "fma", "sse4_1", "sse4_2", "avx", "f16c", "avx2", "bmi2"], isa: "avx2", source: "/proc/cpuinfo" });
  const avx512 = parseCpuinfo(EPYC_AVX512, "x64");
  assert.equal(avx512.model, "AMD EPYC", "the first processor's name");
  assert.equal(avx512.isa, "avx512");
  assert.equal(parseCpuinfo(XEON_AMX, "x64").isa, "amx");
  const arm = parseCpuinfo(GRAVITON, "arm64");
  assert.equal(arm.isa, "neon");
  assert.ok(arm.flags.includes("asimd"));
});

test("isaFromFlags: AVX2 needs FMA too; AMX needs AMX-TILE and AMX-INT8; other architectures are generic", () => {
  assert.equal(isaFromFlags(["avx2"], "x64"), "generic");
  assert.equal(isaFromFlags(["sse2", "sse4_2"], "x64"), "generic");
  assert.equal(isaFromFlags(["avx2", "fma", "avx512f", "amx_tile"], "x64"), "avx512");
  assert.equal(isaFromFlags(["AVX2", "FMA"], "x64"), "avx2", "case-insensitive");
  assert.equal(isaFromFlags([], "riscv64"), "generic");
});

test("--cpu takes every listed ISA and refuses others with the list", () => {
  for (const isa of CPU_ISAS) assert.equal(parseCpuIsa(isa.toUpperCase()), isa);
  assert.throws(() => parseCpuIsa("sse"), (e: unknown) => e instanceof UsageError && /avx2, avx512, amx, neon, generic/.test(e.message));
});

test("the host probe agrees with /proc/cpuinfo where there is one", { skip: !existsSync("/proc/cpuinfo") }, () => {
  const h = hostCpu();
  assert.deepEqual(h, parseCpuinfo(readFileSync("/proc/cpuinfo", "utf8"), process.arch));
});

test("ort-cpu: the report names the CPU, and the NCHWc block follows it (8 on AVX2, 16 with AVX-512, none on NEON)", () => {
  const { model, openExternal, source } = loadModelFile(join(process.cwd(), "models", "fashion-mobilenetv2", "model.onnx"));
  try {
    const blocks: Record<string, number> = {};
    for (const cpu of ["avx2", "avx512", "neon"] as const) {
      const { report } = analyzeModel(model, { batch: 8, openExternal, runtime: "ort-cpu", device: "cpu", cpu, memory: true });
      assert.equal(report.settings.cpu, cpu);
      assert.equal(report.settings.cpuFrom, "--cpu");
      const said = (report.memory!["assumptions"] as string[]).find((a) => a.startsWith(`CPU ${cpu}:`));
      assert.ok(said, "assumptions name the CPU");
      blocks[cpu] = ORT_CPU_TRAITS[cpu].nchwcBlock;
      assert.ok(said!.includes(blocks[cpu]! > 1 ? `NCHWc block ${blocks[cpu]}` : "no NCHWc layout"), said);
    }
    assert.deepEqual(blocks, { avx2: 8, avx512: 16, neon: 0 });
    const { report } = analyzeModel(model, { batch: 1, openExternal, runtime: "ort-cpu", device: "cpu", memory: true });
    assert.equal(report.settings.cpu, hostCpu().isa, "default: this machine's");
  } finally {
    source.close();
  }
});
