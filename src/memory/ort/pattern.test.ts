import { test } from "node:test";
import assert from "node:assert/strict";
import { planMemoryPattern } from "./pattern.js";

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
