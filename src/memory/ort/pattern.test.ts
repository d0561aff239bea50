import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planMemoryPattern, type TraceEvent } from "./pattern.js";
import { ORT_ALLOC_ALIGNMENT } from "./session.js";
import { FIXTURES } from "../../../bench/shared.js";

const FIXTURE_DIR = join(FIXTURES, "ort-traces");

test("a freed block's gap is reused; the peak is the highest end offset", () => {
  const p = planMemoryPattern([
    { kind: "alloc", id: 1, bytes: 100 },
    { kind: "alloc", id: 2, bytes: 200 },
    { kind: "free", id: 1 },
    { kind: "alloc", id: 3, bytes: 50 },
  ]);
  assert.deepEqual(p.offsets.get(3), { offset: 0, bytes: 50 });
  assert.equal(p.peak, 300);
});

test("best fit picks the smallest gap that holds the block, else appends after the last live block", () => {
  const p = planMemoryPattern([
    { kind: "alloc", id: 1, bytes: 300 },
    { kind: "alloc", id: 2, bytes: 10 },
    { kind: "alloc", id: 3, bytes: 100 },
    { kind: "alloc", id: 4, bytes: 10 },
    { kind: "free", id: 1 },
    { kind: "free", id: 3 },
    { kind: "alloc", id: 5, bytes: 80 },
    { kind: "alloc", id: 6, bytes: 400 },
  ]);
  assert.equal(p.offsets.get(5)!.offset, 310);
  assert.equal(p.offsets.get(6)!.offset, 420);
  assert.equal(p.peak, 820);
});

test("a block too big for every gap goes after the last live block, not after the old peak", () => {
  const p = planMemoryPattern([
    { kind: "alloc", id: 1, bytes: 100 },
    { kind: "alloc", id: 2, bytes: 100 },
    { kind: "free", id: 2 },
    { kind: "alloc", id: 3, bytes: 150 },
  ]);
  assert.equal(p.offsets.get(3)!.offset, 100);
  assert.equal(p.peak, 250);
});

test("the tail below the high-water mark is a candidate: a tight fit there beats a loose gap", () => {
  const p = planMemoryPattern([
    { kind: "alloc", id: 1, bytes: 100 },
    { kind: "alloc", id: 2, bytes: 100 },
    { kind: "alloc", id: 3, bytes: 100 },
    { kind: "alloc", id: 4, bytes: 40 },
    { kind: "free", id: 2 },
    { kind: "free", id: 4 },
    // gaps: [100, 200) wastes 60, the tail [300, 340) wastes 0
    { kind: "alloc", id: 5, bytes: 40 },
    { kind: "alloc", id: 6, bytes: 100 },
  ]);
  assert.equal(p.offsets.get(5)!.offset, 300);
  assert.equal(p.offsets.get(6)!.offset, 100);
  assert.equal(p.peak, 340);
});

/** An LD_PRELOAD trace of onnxruntime-node's first run (bench/fixtures/ort-traces/README.md). */
function measuredTrace(file: string): TraceEvent[] {
  const text = readFileSync(join(FIXTURE_DIR, file), "utf8");
  return text.trim().split("\n").map((line) => {
    const [kind, id, bytes] = line.split(" ");
    return kind === "A" ? { kind: "alloc", id: Number(id), bytes: Math.ceil(Number(bytes) / ORT_ALLOC_ALIGNMENT) * ORT_ALLOC_ALIGNMENT } : { kind: "free", id: Number(id) };
  });
}

test("replaying ORT's own first-run allocations gives the block its second run allocates", () => {
  // Block sizes from the same processes: the arena's "Extending BFCArena ... num_bytes" log line of run 2,
  // and the one large malloc of run 2 with the arena off.
  assert.equal(planMemoryPattern(measuredTrace("cls64-run1.trace")).peak, 41_421_312);
  assert.equal(planMemoryPattern(measuredTrace("det640-run1.trace")).peak, 57_142_784);
});
