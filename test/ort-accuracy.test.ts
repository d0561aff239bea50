/**
 * Acceptance for `--runtime ort-cpu` (bench:ort-accuracy prints each set's medians): afterRun1 and afterRun2
 * within 5% median |error| over the shared rows (ort-cpu-memory.json, and the same rows measured on each other
 * machine) and over the held-out rows of the fixtures, each predicted with the CPU it was measured on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracyLines, median, type AccuracyLine } from "../bench/ort-accuracy.js";

const lines = accuracyLines();

function medians(ls: readonly AccuracyLine[]): { run1: number; run2: number } {
  return { run1: median(ls.map((l) => Math.abs(l.error.run1))), run2: median(ls.map((l) => Math.abs(l.error.run2))) };
}

test("ort-cpu afterRun1/afterRun2 within 5% median error: the shared rows on each machine, and the held-out rows together", () => {
  const original = lines.filter((l) => l.set === "shared");
  assert.equal(original.length, 21);
  for (const cpu of new Set(lines.filter((l) => l.group === "shared").map((l) => l.cpu))) {
    const ls = lines.filter((l) => l.group === "shared" && l.cpu === cpu);
    const m = medians(ls);
    assert.ok(m.run1 <= 0.05 && m.run2 <= 0.05, `shared rows measured on ${cpu}: afterRun1 ${(m.run1 * 100).toFixed(1)}%, afterRun2 ${(m.run2 * 100).toFixed(1)}%`);
  }
  const m = medians(lines.filter((l) => l.group === "heldout"));
  assert.ok(m.run1 <= 0.05 && m.run2 <= 0.05, `held-out rows: afterRun1 ${(m.run1 * 100).toFixed(1)}%, afterRun2 ${(m.run2 * 100).toFixed(1)}%`);
});

test("every ground-truth set names the CPU it was measured on, and is predicted with it", () => {
  assert.ok(lines.some((l) => l.cpu === "avx2") && lines.some((l) => l.cpu === "avx512"), "ground truth from the AVX2 and the AVX-512 machine");
  for (const l of lines) assert.ok(["avx2", "avx512", "amx", "neon", "generic"].includes(l.cpu), `${l.set}: ${l.cpu}`);
});
