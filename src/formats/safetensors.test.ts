import { test } from "node:test";
import assert from "node:assert/strict";
import { readSafetensorsHeader, shardsOfIndex } from "./safetensors.js";
import { MemorySource } from "./source.js";

function safetensors(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test("reads dtypes, shapes and exact bytes from the header only", () => {
  const bytes = safetensors(
    {
      __metadata__: { format: "pt" },
      "a.weight": { dtype: "BF16", shape: [4, 8], data_offsets: [0, 64] },
      "b.bias": { dtype: "F32", shape: [8], data_offsets: [64, 96] },
    },
    96,
  );
  let read = 0;
  const inner = new MemorySource(bytes, "m.safetensors");
  const src = { size: inner.size, name: inner.name, read: (o: number, l: number) => ((read += l), inner.read(o, l)) };
  const h = readSafetensorsHeader(src);
  assert.deepEqual(h.tensors.map((t) => [t.name, t.elements, t.bytes]), [["a.weight", 32, 64], ["b.bias", 8, 32]]);
  assert.equal(h.metadata["format"], "pt");
  assert.equal(read, h.headerBytes, "only the 8-byte length and the JSON header are read");
});

test("inconsistent or hostile headers are refused", () => {
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1n << 50n, true);
  assert.throws(() => readSafetensorsHeader(new MemorySource(huge, "h")), /exceeds/);
  const wrongSpan = safetensors({ w: { dtype: "F32", shape: [4], data_offsets: [0, 12] } }, 16);
  assert.throws(() => readSafetensorsHeader(new MemorySource(wrongSpan, "s")), /needs 16/);
  const pastEnd = safetensors({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8);
  assert.throws(() => readSafetensorsHeader(new MemorySource(pastEnd, "p")), /past the end/);
  assert.throws(() => shardsOfIndex(JSON.stringify({ weight_map: { w: "../x.safetensors" } }), "i"), /escapes/);
  assert.deepEqual(shardsOfIndex(JSON.stringify({ weight_map: { a: "m-2.safetensors", b: "m-1.safetensors", c: "m-1.safetensors" } }), "i"), [
    "m-1.safetensors",
    "m-2.safetensors",
  ]);
});
