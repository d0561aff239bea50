/**
 * The web page's file loading (web/files.ts), run in Node with its global File: what the page makes of
 * the files a user chooses, and how little of them it reads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { encodeModel } from "../src/formats/onnx/writer.js";
import { MemorySource } from "../src/formats/source.js";
import { buildModel } from "../src/shapes/testing.js";
import { loadFiles } from "../web/files.js";
import { DYNAMO_FIXTURES } from "../bench/shared.js";

const RESNET18 = join(DYNAMO_FIXTURES, "resnet18.onnx");

/** A File that records how many bytes were asked of it. */
class CountingFile extends File {
  read = 0;
  override slice(start?: number, end?: number, type?: string): Blob {
    const b = super.slice(start, end, type);
    this.read += b.size;
    return b;
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    this.read += this.size;
    return super.arrayBuffer();
  }
}

const GPT2_CONFIG = { model_type: "gpt2", n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257, n_inner: null };

function safetensors(tensors: Record<string, { dtype: string; shape: number[] }>): Uint8Array<ArrayBuffer> {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 2);
    header[name] = { ...t, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test("an ONNX file becomes the same model the Node loader reads", async () => {
  const loaded = await loadFiles([new File([readFileSync(RESNET18)], "resnet18.onnx")]);
  assert.equal(loaded.kind, "onnx");
  if (loaded.kind !== "onnx") return;
  const node = loadModelFile(RESNET18).model;
  assert.equal(loaded.model.graph.nodes.length, node.graph.nodes.length);
  assert.equal(loaded.model.graph.initializers.size, node.graph.initializers.size);
});

/** x[6] reshaped by an int64 shape tensor kept in an external file, at `offset`. */
function externalReshape(location: string, offset: number): Uint8Array<ArrayBuffer> {
  const model = buildModel({
    inputs: { x: { dtype: "float32", shape: [6] } },
    initializers: [{ name: "shape", dtype: "int64", dims: [3], elements: 3, bytes: 24, data: { kind: "external", location, offset, length: 24 }, source: new MemorySource(new Uint8Array(0)) }],
    nodes: [{ op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
    outputs: ["y"],
    opset: 17,
  });
  return new Uint8Array(encodeModel(model));
}

test("ONNX with external data chosen alongside: small tensors are read from it, matched by file name", async () => {
  const data = new Uint8Array(64);
  [1n, 2n, 3n].forEach((v, i) => new DataView(data.buffer).setBigInt64(16 + 8 * i, v, true));
  const side = new CountingFile([data], "w.bin");
  const loaded = await loadFiles([new File([externalReshape("data/w.bin", 16)], "m.onnx"), side]);
  assert.equal(loaded.kind, "onnx");
  if (loaded.kind !== "onnx") return;
  assert.equal(side.read, 24, "only the tensor's own bytes");
  const { report } = analyzeModel(loaded.model, { openExternal: loaded.openExternal });
  assert.deepEqual(report.layers[0]!.outputs[0]!.shape, [1, 2, 3]);
  // Without the side file the model still loads; the reshape is unknown, with a reason, not a guess.
  const alone = await loadFiles([new File([externalReshape("data/w.bin", 16)], "m.onnx")]);
  assert.equal(alone.kind, "onnx");
  if (alone.kind !== "onnx") return;
  const a = analyzeModel(alone.model, { openExternal: alone.openExternal });
  assert.notDeepEqual(a.report.layers[0]!.outputs[0]!.shape, [1, 2, 3]);
  assert.ok(a.report.warnings.length > 0);
  assert.deepEqual(loaded.warnings, []);
  assert.match(alone.warnings[0] ?? "", /external data "data\/w\.bin" was not chosen with the model/);
});

test("config.json with safetensors: the architecture from the config, counts from the headers, weights never read", async () => {
  const weights = safetensors({ "wte.weight": { dtype: "F16", shape: [1000, 768] }, "h.0.attn.c_attn.weight": { dtype: "F16", shape: [768, 2304] } });
  const shard = new CountingFile([weights], "model.safetensors");
  const loaded = await loadFiles([new File([JSON.stringify(GPT2_CONFIG)], "config.json"), shard]);
  assert.equal(loaded.kind, "transformer");
  if (loaded.kind !== "transformer") return;
  assert.equal(loaded.llm.arch.family, "gpt2");
  assert.equal(loaded.llm.format, "safetensors");
  assert.equal(loaded.llm.parameters, 1000 * 768 + 768 * 2304);
  assert.deepEqual(loaded.llm.storedTypes, { F16: (1000 * 768 + 768 * 2304) * 2 });
  assert.match(loaded.llm.warnings[0] ?? "", /safetensors hold .* config\.json implies/);
  const headerBytes = new DataView(weights.buffer).getBigUint64(0, true);
  assert.equal(shard.read, 8 + 8 + Number(headerBytes), "only the length and the JSON header were read");
  assert.ok(shard.size > 5_000_000 && shard.read < 1000);
});

test("config.json alone: parameters from the architecture", async () => {
  const loaded = await loadFiles([new File([JSON.stringify(GPT2_CONFIG)], "config.json")]);
  assert.equal(loaded.kind === "transformer" && loaded.llm.format, "hf-config");
  assert.ok(loaded.kind === "transformer" && loaded.llm.parameters > 100_000_000);
});

test("what the page cannot analyse is refused with a reason", async () => {
  await assert.rejects(loadFiles([new File([new Uint8Array(16)], "model.safetensors")]), /choose its config\.json too/);
  await assert.rejects(loadFiles([new File([new Uint8Array(16)], "llama.gguf")]), /llama.gguf: not a GGUF file/);
  await assert.rejects(loadFiles([new File(["{}"], "config.json")]), /config\.json/);
  await assert.rejects(loadFiles([new File([new Uint8Array([8, 1, 2])], "truncated.onnx")]));
  await assert.rejects(loadFiles([]), /no file chosen/);
});
