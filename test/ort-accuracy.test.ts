/**
 * Acceptance for `--runtime ort-cpu`: median |error| <= 10% for memory.afterRun1 and afterRun2 over the
 * shared rows (bench/groundtruth/ort-cpu-memory.json) and over the held-out rows (bench/groundtruth/
 * ort-cpu-*.json, all sets together; bench:ort-accuracy prints each set's medians).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracyLines, median } from "../bench/ort-accuracy.js";


test("ort-cpu afterRun1/afterRun2 within 10% median error: shared rows, and held-out rows together", () => {
  const lines = accuracyLines();
  const shared = lines.filter((l) => l.set === "shared");
  const heldOut = lines.filter((l) => l.set !== "shared");
  assert.equal(shared.length, 21);
  for (const [name, ls] of [["shared", shared], ["held-out", heldOut]] as const) {
    if (ls.length === 0) continue;
    const m1 = median(ls.map((l) => Math.abs(l.error.run1)));
    const m2 = median(ls.map((l) => Math.abs(l.error.run2)));
    assert.ok(m1 <= 0.1, `${name}: afterRun1 median |error| ${(m1 * 100).toFixed(1)}%`);
    assert.ok(m2 <= 0.1, `${name}: afterRun2 median |error| ${(m2 * 100).toFixed(1)}%`);
  }
});
