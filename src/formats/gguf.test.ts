import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../errors.js";
import { GGML_TYPES, readGguf } from "./gguf.js";
import { MemorySource } from "./source.js";
import { buildGguf, tinyLlamaGguf, type GgufTensorSpec } from "./gguf-testing.js";
import { describeGguf } from "../llm/describe.js";
import { parameterCount } from "../llm/arch.js";

const gguf = (tensors: GgufTensorSpec[], kv: [string, string][] = []) => buildGguf(tensors, kv);

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

test("a GGUF header describes its architecture: Llama with grouped-query attention, exact parameters", () => {
  const { bytes, parameters } = tinyLlamaGguf();
  const src = describeGguf(readGguf(new MemorySource(bytes, "tiny.gguf")), "tiny.gguf");
  assert.equal(src.arch.family, "llama");
  assert.equal(src.arch.kvHeads, 2);
  assert.equal(src.arch.headDim, 16);
  assert.equal(src.arch.tieEmbeddings, false);
  assert.equal(src.parameters, parameters);
  assert.equal(parameterCount(src.arch), parameters, "the architecture implies the same count as the file holds");
  assert.deepEqual(Object.keys(src.storedTypes).sort(), ["F16", "F32"]);
});

test("a metadata key or a tensor named twice is refused (llama.cpp refuses both), not last-wins", () => {
  const repeated = tinyLlamaGguf((kv) => [...kv, ["llama.block_count", 100_000]]).bytes;
  assert.throws(() => readGguf(new MemorySource(repeated, "r.gguf")), (e) => e instanceof ModelFormatError && /'llama\.block_count' appears twice/.test(e.message));
  const t = { name: "w", dims: [4], type: 0, bytes: 16 };
  assert.throws(() => readGguf(new MemorySource(buildGguf([t, t]), "t.gguf")), (e) => e instanceof ModelFormatError && /tensor 'w' appears twice/.test(e.message));
});

test("a uint64 block_count of 10^12 is read, then refused by the architecture's limit", () => {
  const huge = tinyLlamaGguf((kv) => kv.map(([k, v]) => [k, k === "llama.block_count" ? 10n ** 12n : v])).bytes;
  const g = readGguf(new MemorySource(huge, "h.gguf"));
  assert.equal(g.metadata["llama.block_count"], 10 ** 12);
  assert.throws(() => describeGguf(g, "h.gguf"), (e) => e instanceof ModelFormatError && /h\.gguf: GGUF metadata.*layers .* 1000000000000, past the plausible limit/.test(e.message));
});
