/**
 * `memlens analyze` and `memlens fit` with the pytorch-cuda profile, as a user runs them: the JSON contract's
 * memory fields, the explanation, and the options that change the estimate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MemoryReport, TimelinePoint } from "../src/contract/report.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FASHION = join(ROOT, "models/fashion-mobilenetv2/model.onnx");

function memlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function memory(...args: string[]): { memory: MemoryReport; timeline: TimelinePoint[] } {
  const r = memlens("analyze", FASHION, "--json", "--device", "h200", ...args);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { memory: MemoryReport; timeline: TimelinePoint[] };
  return j;
}

test("analyze --json fills memory and timeline with integer byte counts that add up", () => {
  const { memory: m, timeline } = memory("--batch", "32");
  for (const k of ["weights", "inputs", "outputs", "activationPeak", "workspace", "peakAllocated", "peakReserved", "runtimeOverhead", "total"] as const) {
    assert.ok(Number.isInteger(m[k]) && (m[k] as number) >= 0, `${k} = ${String(m[k])}`);
  }
  assert.equal(m.inputs, 32 * 3 * 32 * 32 * 4);
  assert.ok(m.peakAllocated >= m.weights + m.inputs + m.activationPeak);
  assert.ok(m.peakReserved >= m.peakAllocated);
  assert.ok(m.total > m.runtimeOverhead && m.total <= m.runtimeOverhead + m.peakReserved);
  assert.ok(m.peakAt.layer !== "" && m.peakAt.live.length > 0);
  assert.ok("fixed" in m.perBatch && m.perBatch.perSample > 0);
  assert.ok(timeline.length > 10);
  assert.equal(Math.max(...timeline.map((t) => t.liveBytes)) > 0, true);
});

test("options: eager module loading, fp16, a bigger batch", () => {
  const lazy = memory("--batch", "8").memory;
  const eager = memory("--batch", "8", "--cuda-module-loading", "eager").memory;
  assert.ok(eager.runtimeOverhead > lazy.runtimeOverhead + 500 * 2 ** 20, "eager loading costs more than 500 MiB more");
  const half = memory("--batch", "8", "--dtype", "fp16").memory;
  assert.ok(Math.abs(half.weights * 2 - lazy.weights) < 0.01 * lazy.weights, "fp16 halves the weights");
  assert.ok(half.activationPeak < 0.6 * lazy.activationPeak);
  const big = memory("--batch", "64").memory;
  assert.ok(big.activationPeak > 4 * lazy.activationPeak);
  const bad = memlens("analyze", FASHION, "--cuda-module-loading", "sometimes");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /lazy or eager/);
});

test("the default output explains the four parts with numbers", () => {
  const r = memlens("analyze", FASHION, "--batch", "32", "--device", "h200");
  assert.equal(r.code, 0, r.stderr);
  for (const part of ["weights", "activations", "allocator", "CUDA runtime", "total"]) assert.match(r.stdout, new RegExp(`\\b${part}\\b`));
  assert.match(r.stdout, /per sample/);
  assert.match(r.stdout, /total ≈ .* × batch/);
});

test("fit --json follows the contract", () => {
  const r = memlens("fit", FASHION, "--device", "t4", "--json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { device: string; capacity: number; maxBatch: number; total: number };
  assert.equal(j.device, "t4");
  assert.ok(j.maxBatch > 1000 && j.total <= j.capacity);
});
