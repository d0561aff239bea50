import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../errors.js";
import { lastUses, liveness, type MemEvent } from "./liveness.js";

const alloc = (id: string, bytes: number, step: number): MemEvent => ({ kind: "alloc", id, bytes, step });
const free = (id: string, step: number): MemEvent => ({ kind: "free", id, step });

test("a chain peaks where a node's output and its input are both live", () => {
  // a -> b -> c, each freed after its consumer ran
  const ev = [alloc("a", 100, 0), alloc("b", 300, 1), free("a", 1), alloc("c", 50, 2), free("b", 2)];
  const r = liveness(ev, 3);
  assert.equal(r.peak, 400);
  assert.equal(r.peakStep, 1);
  assert.deepEqual(r.liveAtPeak, ["b", "a"]);
  assert.deepEqual(r.timeline, [100, 400, 350]);
});

test("a residual keeps the block input alive across the block", () => {
  // x feeds conv1 (step 1) and the add (step 3): it stays live through steps 1-3
  const ev = [alloc("x", 10, 0), alloc("c1", 10, 1), alloc("c2", 10, 2), free("c1", 2), alloc("sum", 10, 3), free("x", 3), free("c2", 3)];
  const r = liveness(ev, 4);
  assert.equal(r.peak, 30);
  assert.deepEqual(r.timeline, [10, 20, 30, 30]);
  assert.ok(r.liveAtPeak.includes("x"));
});

test("rounding applies per tensor, and steps without events carry what is live", () => {
  const ev = [alloc("a", 1, 0), alloc("b", 513, 2), free("a", 2)];
  const r = liveness(ev, 4, (b) => Math.ceil(b / 512) * 512);
  assert.equal(r.peak, 512 + 1024);
  assert.deepEqual(r.timeline, [512, 512, 1536, 1024]);
});

test("freeing what is not live is an error, not a silent negative: the input's fault, named (exit 2)", () => {
  assert.throws(() => liveness([free("ghost", 0)], 1), (e: unknown) => e instanceof ModelFormatError && /'ghost' is released before it is defined/.test(e.message));
  assert.throws(() => liveness([alloc("a", 1, 0), alloc("a", 1, 0)], 1), (e: unknown) => e instanceof ModelFormatError && /'a' is defined twice/.test(e.message));
});

test("lastUses: last reader, kept outputs, and lifetimes pushed later by a parameter", () => {
  const readers = new Map([["a", [1, 3]], ["b", [2]]]);
  const producers = new Map([["a", 0], ["b", 1], ["out", 2], ["dead", 1]]);
  const plain = lastUses(readers, producers, new Set(["out"]));
  assert.deepEqual([plain.get("a"), plain.get("b"), plain.get("out"), plain.get("dead")], [3, 2, Infinity, 1]);
  const python = lastUses(readers, producers, new Set(["out"]), (id, last) => (id === "b" ? 5 : last));
  assert.equal(python.get("b"), 5);
});
