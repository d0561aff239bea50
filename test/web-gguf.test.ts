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
  assert.equal(loaded.kind, "llm");
  if (loaded.kind !== "llm") return;
  assert.equal(loaded.source.format, "gguf");
  assert.equal(loaded.source.parameters, parameters);
  assert.ok(read <= 4 << 20, `read ${read} bytes of ${big.length}`);
});
