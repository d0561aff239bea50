/**
 * Acceptance for `--runtime ort-cpu`: median |error| <= 10% for memory.afterRun1 and afterRun2 over the
 * measured rows (../shared/groundtruth/ort-cpu-memory.json, and held-out rows in bench/groundtruth/).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { accuracyLines, median } from "../bench/ort-accuracy.js";

const SHARED = process.env["MEMLENS_SHARED"] ?? join(process.cwd(), "..", "shared");

test("ort-cpu afterRun1/afterRun2 within 10% median error, per measured set", { skip: !existsSync(join(SHARED, "groundtruth", "ort-cpu-memory.json")) }, () => {
  const lines = accuracyLines();
  assert.ok(lines.length >= 21);
  for (const set of new Set(lines.map((l) => l.set))) {
    const ls = lines.filter((l) => l.set === set);
    const m1 = median(ls.map((l) => Math.abs(l.error.run1)));
    const m2 = median(ls.map((l) => Math.abs(l.error.run2)));
    assert.ok(m1 <= 0.1, `${set}: afterRun1 median |error| ${(m1 * 100).toFixed(1)}%`);
    assert.ok(m2 <= 0.1, `${set}: afterRun2 median |error| ${(m2 * 100).toFixed(1)}%`);
  }
});
