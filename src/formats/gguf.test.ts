import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../errors.js";
import { GGML_TYPES, readGguf } from "./gguf.js";
import { MemorySource } from "./source.js";

/** A GGUF v3 file written by hand: metadata, tensor infos, aligned data of the right size. */
function gguf(tensors: { name: string; dims: number[]; type: number; bytes: number }[], kv: [string, string][] = []): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  const u64 = (v: number) => {
    u32(v % 2 ** 32);
    u32(Math.floor(v / 2 ** 32));
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    u64(b.length);
    parts.push(...b);
  };
  u32(0x46554747);
  u32(3);
  u64(tensors.length);
  u64(kv.length);
  for (const [k, v] of kv) {
    str(k);
    u32(8);
    str(v);
  }
  let offset = 0;
  for (const t of tensors) {
    str(t.name);
    u32(t.dims.length);
    t.dims.forEach(u64);
    u32(t.type);
    u64(offset);
    offset += Math.ceil(t.bytes / 32) * 32;
  }
  while (parts.length % 32 !== 0) parts.push(0);
  const out = new Uint8Array(parts.length + offset);
  out.set(parts);
  return out;
}

test("every ggml type: parameter counts and bytes are exact", () => {
  const tensors = Object.entries(GGML_TYPES).map(([code, t]) => {
    const elements = 256 * 4; // a whole number of blocks for every type (blocks are 1, 32 or 256)
    return { name: `t.${t.name}`, dims: [256, 4], type: Number(code), bytes: (elements / t.block) * t.bytes };
  });
  const g = readGguf(new MemorySource(gguf(tensors, [["general.architecture", "llama"]]), "x.gguf"));
  assert.equal(g.metadata["general.architecture"], "llama");
  assert.equal(g.tensors.length, tensors.length);
  for (const [i, t] of g.tensors.entries()) {
    assert.equal(t.elements, 1024);
    assert.equal(t.bytes, tensors[i]!.bytes, t.typeName);
  }
  // Spot values from ggml's block structs: Q4_0 is 18 bytes per 32, Q4_K 144 per 256, Q6_K 210 per 256.
  assert.equal(g.tensors.find((t) => t.typeName === "Q4_0")!.bytes, 32 * 18);
  assert.equal(g.tensors.find((t) => t.typeName === "Q4_K")!.bytes, 4 * 144);
  assert.equal(g.tensors.find((t) => t.typeName === "Q6_K")!.bytes, 4 * 210);
});

test("hostile headers are refused with one reason, before allocating", () => {
  const good = gguf([{ name: "w", dims: [32], type: 0, bytes: 128 }]);
  const hugeCount = good.slice();
  new DataView(hugeCount.buffer).setBigUint64(8, 1n << 40n, true);
  assert.throws(() => readGguf(new MemorySource(hugeCount, "a.gguf")), /tensors exceeds|counts exceed/);
  assert.throws(() => readGguf(new MemorySource(good.subarray(0, 30), "b.gguf")), ModelFormatError);
  const badMagic = good.slice();
  badMagic[0] = 0;
  assert.throws(() => readGguf(new MemorySource(badMagic, "c.gguf")), /not a GGUF/);
  const badType = gguf([{ name: "w", dims: [32], type: 99, bytes: 128 }]);
  assert.throws(() => readGguf(new MemorySource(badType, "d.gguf")), /unknown ggml type 99/);
  const pastEnd = gguf([{ name: "w", dims: [32], type: 0, bytes: 128 }]).subarray(0, good.length - 64);
  assert.throws(() => readGguf(new MemorySource(pastEnd, "e.gguf")), /past the end/);
});
