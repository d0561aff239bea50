import { test } from "node:test";
import assert from "node:assert/strict";
import { BfcArena, binFor, PAGE_BYTES, roundArenaBytes } from "./arena.js";

const MiB = 1 << 20;

test("requests round up to 256 bytes; bins are 256 << i, the last one open-ended", () => {
  assert.equal(roundArenaBytes(1), 256);
  assert.equal(roundArenaBytes(256), 256);
  assert.equal(roundArenaBytes(257), 512);
  assert.equal(binFor(256), 0);
  assert.equal(binFor(511), 0);
  assert.equal(binFor(512), 1);
  assert.equal(binFor(MiB), 12);
  assert.equal(binFor(2 ** 40), 20);
});

test("the first region is the 1 MiB initial chunk; only written pages count", () => {
  const a = new BfcArena();
  a.alloc(1000);
  assert.equal(a.reserved, MiB);
  assert.equal(a.touchedPages, PAGE_BYTES);
});

test("kNextPowerOfTwo: regions double, and a request bigger than the next region grows it to fit", () => {
  const a = new BfcArena();
  a.alloc(MiB); // region 1 MiB, next 2 MiB
  a.alloc(MiB); // region 2 MiB, next 4 MiB
  assert.deepEqual(a.regions.map((r) => r.size), [MiB, 2 * MiB]);
  a.alloc(10 * MiB); // 4 -> 8 -> 16 MiB; a grown region does not double the next one again
  assert.deepEqual(a.regions.map((r) => r.size), [MiB, 2 * MiB, 16 * MiB]);
  a.alloc(20 * MiB);
  assert.equal(a.regions[3]!.size, 32 * MiB);
});

test("freed neighbours merge, and a chunk is split only when at least twice the request", () => {
  const a = new BfcArena();
  const x = a.alloc(256 * 1024);
  const y = a.alloc(256 * 1024);
  a.free(x);
  a.free(y);
  assert.equal(a.regions[0]!.chunks.length, 1);
  assert.equal(a.inUse, 0);
  // 600 KiB from the free 1 MiB chunk: less than twice the request, so the whole chunk is handed out.
  a.alloc(600 * 1024);
  assert.equal(a.inUse, MiB);
  assert.equal(a.regions.length, 1);
});

test("best fit: the smallest free chunk that holds the request, reused without growing the arena", () => {
  const a = new BfcArena();
  const big = a.alloc(512 * 1024);
  const keep = a.alloc(64 * 1024);
  const small = a.alloc(128 * 1024);
  a.alloc(64 * 1024);
  a.free(big);
  a.free(small);
  const before = a.touchedPages;
  a.alloc(100 * 1024); // fits the 128 KiB hole, already written
  assert.equal(a.touchedPages, before);
  assert.equal(a.regions.length, 1);
  void keep;
});
