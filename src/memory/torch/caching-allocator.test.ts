import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CachingAllocator, roundSize, segmentSize } from "./caching-allocator.js";
import { H200_GROUND_TRUTH, type GpuRun as Run } from "../../../bench/shared.js";
import { ModelFormatError } from "../../errors.js";

const MiB = 1 << 20;

test("requests round up to 512 B; segments are 2 MiB (small), 20 MiB (1-10 MiB) or the request rounded to 2 MiB", () => {
  assert.equal(roundSize(1), 512);
  assert.equal(roundSize(400), 512);
  assert.equal(roundSize(513), 1024);
  assert.equal(segmentSize(roundSize(4000)), 2 * MiB);
  assert.equal(segmentSize(MiB), 2 * MiB);
  assert.equal(segmentSize(MiB + 512), 20 * MiB);
  assert.equal(segmentSize(10 * MiB - 512), 20 * MiB);
  assert.equal(segmentSize(10 * MiB), 10 * MiB);
  assert.equal(segmentSize(51380224), 50 * MiB);
});

test("small requests share one 2 MiB segment; a large one gets its own", () => {
  const a = new CachingAllocator();
  a.malloc(400);
  a.malloc(1000);
  assert.deepEqual([a.snapshot().segments, a.snapshot().reserved, a.snapshot().allocated], [1, 2 * MiB, 512 + 1024]);
  a.malloc(3 * MiB);
  assert.deepEqual([a.snapshot().segments, a.snapshot().reserved], [2, 22 * MiB]);
});

test("a large block is split only when more than 1 MiB would remain; the rest counts as allocated", () => {
  const a = new CachingAllocator();
  const x = a.malloc(12 * MiB); // segment of exactly 12 MiB
  a.free(x);
  a.malloc(11.5 * MiB); // 0.5 MiB would remain: not split
  assert.equal(a.snapshot().allocated, 12 * MiB);
  const b = new CachingAllocator();
  const y = b.malloc(12 * MiB);
  b.free(y);
  b.malloc(10 * MiB); // 2 MiB remain: split
  assert.equal(b.snapshot().allocated, 10 * MiB);
  b.malloc(2 * MiB); // served by the remainder, no new segment
  assert.equal(b.snapshot().segments, 1);
});

test("freed neighbours merge, so a request as large as both reuses the segment", () => {
  const a = new CachingAllocator();
  const big = a.malloc(20 * MiB);
  a.free(big);
  const p = a.malloc(8 * MiB);
  const q = a.malloc(8 * MiB);
  assert.equal(a.snapshot().segments, 1);
  a.free(p);
  a.free(q);
  a.malloc(16 * MiB);
  assert.equal(a.snapshot().segments, 1);
});

test("best fit: the smallest cached block that holds the request", () => {
  const a = new CachingAllocator();
  const s12 = a.malloc(12 * MiB);
  const s30 = a.malloc(30 * MiB);
  a.free(s30);
  a.free(s12);
  assert.equal(a.malloc(11 * MiB), s12);
  assert.equal(a.malloc(25 * MiB), s30);
});

test("empty_cache returns whole free segments, and the device's capacity is enforced", () => {
  const a = new CachingAllocator(64 * MiB);
  const x = a.malloc(40 * MiB);
  a.free(x);
  a.malloc(50 * MiB); // needs a new segment: the free 40 MiB one is released first (a retry)
  assert.equal(a.snapshot().retries, 1);
  assert.equal(a.snapshot().reserved, 50 * MiB);
  assert.throws(() => a.malloc(20 * MiB), /out of memory/);
});

test("per-pool counters follow torch.cuda.memory_stats(): pool peaks, request count, segment peak since the last reset", () => {
  const a = new CachingAllocator();
  const s = a.malloc(4000); // small pool: one 2 MiB segment
  const l = a.malloc(3 * MiB); // large pool: a 20 MiB segment
  a.free(l);
  let st = a.snapshot();
  assert.deepEqual(st.pools.small, { allocated: 4096, reserved: 2 * MiB, peakAllocated: 4096, peakReserved: 2 * MiB });
  assert.deepEqual(st.pools.large, { allocated: 0, reserved: 20 * MiB, peakAllocated: 3 * MiB, peakReserved: 20 * MiB });
  assert.equal(st.allocations, 2);
  assert.equal(st.peakSegments, 2);
  a.free(s);
  a.emptyCache();
  a.resetPeaks();
  st = a.snapshot();
  assert.equal(st.peakSegments, 0, "the segment peak restarts from what is held now");
  assert.equal(st.pools.large.peakAllocated, 0);
  assert.equal(st.allocations, 2, "the request count is cumulative, as allocation.all.allocated is");
});

const GT = H200_GROUND_TRUTH;
interface Trace {
  base: number;
  events: [string, number, number][];
}

test("replaying the measured mobilenet_v2 trace event by event: same peak, and warm passes need no new segment", () => {
  const gt = JSON.parse(readFileSync(GT, "utf8")) as { traces: Record<string, Trace>; runs: Run[] };
  const trace = gt.traces["mobilenet_v2_b32_float32_infer"]!;
  const run = gt.runs.find((r) => r.model === "mobilenet_v2" && r.batch === 32 && r.dtype === "float32" && r.tag === "" && r.input?.[1] === 224)!;
  const a = new CachingAllocator();
  const segmentsAfter: number[] = [];
  for (let pass = 1; pass <= 3; pass++) {
    a.resetPeaks();
    const start = a.snapshot().allocated;
    const addr = new Map<number, number>();
    for (const [action, at, size] of trace.events) {
      if (action === "alloc") addr.set(at, a.malloc(size));
      else if (action === "free_completed") {
        const mine = addr.get(at);
        assert.ok(mine !== undefined, `trace frees ${at} that it never allocated`);
        a.free(mine);
        addr.delete(at);
      }
    }
    // The trace's output stays allocated (freed after the snapshot): release it like `del y`.
    for (const mine of addr.values()) a.free(mine);
    if (pass === 1) assert.equal(a.snapshot().peakAllocated - start, run.peak_delta_3, "peak of the forward, as max_memory_allocated saw it");
    segmentsAfter.push(a.snapshot().segments);
  }
  assert.equal(segmentsAfter[1], segmentsAfter[0]);
  assert.equal(segmentsAfter[2], segmentsAfter[0]);
});

test("a request past exact arithmetic is the input's fault, named, not a lost block", () => {
  const a = new CachingAllocator();
  assert.throws(() => a.malloc(6.49e32), (e: unknown) => e instanceof ModelFormatError && /asks for 6\.49e\+32 bytes: past exact arithmetic/.test(e.message));
});
