import { test } from "node:test";
import assert from "node:assert/strict";
import { readGguf } from "./gguf.js";
import { MemorySource } from "./source.js";
import { ggufBytes, ggufLayout, meta, writeGgufChunks } from "./gguf-writer.js";
import { GGML, MODEL_SHAPES, shapeGguf } from "./gguf-models.js";

/** Every shape, with a small vocabulary so the test stays fast. */
const small = (id: string) => ({ ...MODEL_SHAPES[id]!, vocab: 512 });

test("the writer's files read back: metadata, tensors at aligned offsets inside the file, exact bytes", () => {
  for (const id of Object.keys(MODEL_SHAPES)) {
    const input = shapeGguf(small(id), { weights: GGML.Q8_0 });
    const bytes = ggufBytes(input);
    const g = readGguf(new MemorySource(bytes, `${id}.gguf`));
    const shape = MODEL_SHAPES[id]!;
    assert.equal(g.metadata["general.architecture"], shape.arch, id);
    assert.equal(g.metadata[`${shape.arch}.block_count`], shape.layers, id);
    assert.equal((g.metadata["tokenizer.ggml.tokens"] as string[]).length, 512, id);
    assert.equal(g.tensors.length, input.tensors.length, id);
    for (const [i, t] of g.tensors.entries()) {
      assert.equal((t.offset - g.dataStart) % 32, 0, `${id} ${t.name} aligned`);
      assert.deepEqual(t.dims, input.tensors[i]!.dims, `${id} ${t.name}`);
      assert.ok(t.offset + t.bytes <= bytes.length, `${id} ${t.name} inside the file`);
    }
    assert.equal(g.tensors.filter((t) => t.name.includes("_exps")).length, shape.experts ? 3 * shape.layers : 0, id);
  }
});

test("weights are random but finite, the same for the same seed, and streaming writes the same bytes", () => {
  const input = shapeGguf({ ...small("llama2-like"), layers: 1 }, { weights: GGML.F16, output: GGML.Q4_K, embedding: GGML.F32 });
  const a = ggufBytes(input, 7);
  assert.deepEqual(a, ggufBytes(input, 7));
  assert.notDeepEqual(a, ggufBytes(input, 8));
  const chunks: Uint8Array[] = [];
  const size = writeGgufChunks(input, (c) => chunks.push(c), 7);
  assert.equal(size, a.length);
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(a));
  const g = readGguf(new MemorySource(a, "x.gguf"));
  const f16 = g.tensors.find((t) => t.typeName === "F16")!;
  const view = new DataView(a.buffer, f16.offset, f16.bytes);
  for (let i = 0; i < f16.bytes; i += 2) assert.notEqual((view.getUint16(i, true) >> 10) & 31, 31, "no Inf/NaN halves");
  const q4k = g.tensors.find((t) => t.typeName === "Q4_K")!;
  const qv = new DataView(a.buffer, q4k.offset, q4k.bytes);
  for (let b = 0; b < q4k.bytes; b += 144) assert.notEqual((qv.getUint16(b, true) >> 10) & 31, 31, "finite Q4_K scale");
});

test("typed metadata values and a custom alignment", () => {
  const input = {
    metadata: [["a.u", meta.u32(7)], ["a.f", meta.f32(0.5)], ["a.b", meta.bool(true)], ["a.s", meta.str("x")], ["a.arr", meta.i32s([1, -2])]] as const,
    tensors: [{ name: "w", dims: [64, 2], type: GGML.Q4_0 }],
    alignment: 64,
  };
  const layout = ggufLayout(input);
  assert.equal(layout.header.length % 64, 0);
  const g = readGguf(new MemorySource(ggufBytes(input), "m.gguf"));
  assert.equal(g.metadata["a.u"], 7);
  assert.equal(g.metadata["a.f"], 0.5);
  assert.equal(g.metadata["a.b"], true);
  assert.equal(g.metadata["a.s"], "x");
  assert.deepEqual(g.metadata["a.arr"], [1, -2]);
  assert.equal(g.metadata["general.alignment"], 64);
  assert.equal(g.tensors[0]!.bytes, 4 * 18);
  assert.throws(() => ggufLayout({ metadata: [], tensors: [{ name: "bad", dims: [100], type: GGML.Q4_K }] }), /not whole Q4_K blocks/);
});
