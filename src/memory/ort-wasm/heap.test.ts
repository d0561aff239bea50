import { test } from "node:test";
import assert from "node:assert/strict";
import { INITIAL_HEAP, WASM32_MAX_HEAP, WasmHeap, grownSize } from "./heap.js";

test("the heap grows by Emscripten's 20% steps: four steps from 16 MiB are the 34,930,688 bytes onnxruntime-web's small sessions read", () => {
  let size = INITIAL_HEAP;
  const steps: number[] = [];
  for (let i = 0; i < 4; i++) steps.push((size = grownSize(size, size + 1)));
  // Measured in bench/groundtruth/ort-web1.30.0-wasm-*.json (fashion-mobilenetv2, mobilenet_v2 at batch 1).
  assert.deepEqual(steps, [20185088, 24248320, 29097984, 34930688]);
});

test("a request past the next step grows to the request itself, page-rounded; past 4 GiB - 64 KiB it stops at the cap", () => {
  assert.equal(grownSize(INITIAL_HEAP, 100_000_000), 100_007_936);
  assert.equal(grownSize(3_900_000_000, 4_200_000_000), WASM32_MAX_HEAP);
});

test("freed chunks are reused before the top moves; the peak top is what was asked for", () => {
  const h = new WasmHeap(1 << 20);
  const a = h.alloc(8 << 20);
  h.alloc(1 << 20);
  h.release(a);
  h.alloc(4 << 20); // fits in a's hole
  assert.ok(h.peakTop < (1 << 20) + (10 << 20), `peak ${h.peakTop}`);
  h.alloc(64 << 20);
  assert.ok(h.peakTop > 64 << 20);
  assert.ok(h.size >= h.peakTop);
});

test("memalign: a hole left by a buffer of the same size does not take a 64-byte-aligned one; a plain malloc it does", () => {
  const MiB = 1 << 20;
  for (const [align, reused] of [[16, true], [64, false]] as const) {
    const h = new WasmHeap(MiB);
    const a = h.alloc(8 * MiB, align);
    h.alloc(MiB, align);
    h.release(a);
    const before = h.peakTop;
    h.alloc(8 * MiB, align);
    assert.equal(h.peakTop === before, reused, `align ${align}`);
  }
});
