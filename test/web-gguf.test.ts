/** The web page reads a GGUF file's header from a File, however long the header, and never its tensors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tinyLlamaGguf } from "../src/formats/gguf-testing.js";
import { loadFiles } from "../web/files.js";

test("a GGUF file chosen in the page becomes an LLM source with exact parameters, reading only a prefix", async () => {
  const { bytes, parameters } = tinyLlamaGguf();
  // Pad the file with 32 MiB of tensor data the page must not read.
  const big = new Uint8Array(bytes.length + (32 << 20));
  big.set(bytes);
  let read = 0;
  class Counting extends File {
    override slice(start?: number, end?: number, type?: string): Blob {
      const b = super.slice(start, end, type);
      read += b.size;
      return b;
    }
  }
  const loaded = await loadFiles([new Counting([big], "tiny.gguf")]);
  assert.equal(loaded.kind, "gguf");
  if (loaded.kind !== "gguf") return;
  assert.equal(loaded.header.tensors.reduce((a, t) => a + t.elements, 0), parameters);
  assert.equal(loaded.fileBytes, big.length);
  assert.ok(read <= 4 << 20, `read ${read} bytes of ${big.length}`);
});

test("the page runs a GGUF on llama.cpp from its header: buffers per device, a sweep over sequences", async () => {
  const { ggufFuzzSeeds } = await import("../src/formats/gguf-models.js");
  const { analyse } = await import("../web/engine.js");
  const seed = ggufFuzzSeeds().find((s) => s.name.startsWith("qwen3-like"))!;
  const loaded = await loadFiles([new File([seed.bytes], seed.name)]);
  const { report, sweep } = analyse(loaded, { batch: 1, dtype: "fp32", runtime: "llama.cpp", device: "cpu", cpu: "avx2", mode: "inference", attn: "sdpa", dims: { ctx: 2048 } });
  assert.equal(report.settings.runtime, "llama.cpp");
  const buffers = report.memory!["buffers"] as { kind: string }[];
  assert.deepEqual([...new Set(buffers.map((b) => b.kind))], ["model", "kv", "output", "compute"]);
  assert.equal((report.memory!["llamacpp"] as { nCtx: number }).nCtx, 2048);
  const first = sweep.next();
  assert.ok(!first.done && "point" in first.value && first.value.point.total === report.memory!.total);
});
