/** The onnxruntime adapter, random weights and the RSS sampler, on real files. */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadModelFile } from "../src/formats/load-node.js";
import { createSession, writeOptimizedModel } from "../src/runtime/ort.js";
import { absentExternalFiles, randomExternalData } from "../src/runtime/random-weights.js";
import { RssSampler } from "../src/runtime/rss.js";
import { BUNDLED_MODEL } from "../src/cli/seed.js";
import { LEGACY_FIXTURES } from "../bench/shared.js";
import { tempDir } from "./temp.js";

const RESNET18 = join(LEGACY_FIXTURES, "resnet18.onnx");

test("random weights: one in-memory side file covering every external tensor, seeded, scaled by fan-in", () => {
  const { model } = loadModelFile(RESNET18);
  assert.deepEqual(absentExternalFiles(model, RESNET18), ["resnet18.weights"]);
  const a = randomExternalData(model, RESNET18, 7);
  const b = randomExternalData(model, RESNET18, 7);
  assert.equal(a.files.length, 1);
  assert.equal(a.files[0]!.path, "resnet18.weights");
  let external = 0;
  let end = 0;
  for (const t of model.graph.initializers.values()) {
    if (t.data.kind !== "external") continue;
    external++;
    end = Math.max(end, t.data.offset + t.bytes);
  }
  assert.equal(a.tensors, external);
  assert.equal(a.files[0]!.data.length, end);
  assert.deepEqual(a.files[0]!.data.subarray(0, 4096), b.files[0]!.data.subarray(0, 4096), "same seed, same bytes");
  const fc = model.graph.initializers.get("fc.weight")!;
  assert.equal(fc.data.kind, "external");
  const off = fc.data.kind === "external" ? fc.data.offset : 0;
  const values = new Float32Array(a.files[0]!.data.slice(off, off + fc.bytes).buffer);
  const bound = 1 / Math.sqrt(512);
  assert.ok(values.every((v) => Math.abs(v) <= bound) && values.some((v) => v !== 0));
});

test("a session from a path runs; CUDA/WebGPU requests fall back to CPU and say why", async () => {
  const s = await createSession(BUNDLED_MODEL, { provider: "cuda" });
  try {
    assert.equal(s.inputs[0]!.name, "input");
    assert.deepEqual(s.inputs[0]!.shape, ["batch", 3, 32, 32]);
    const out = await s.run({ input: { type: "float32", dims: [2, 3, 32, 32], data: new Float32Array(2 * 3 * 32 * 32) } });
    assert.deepEqual(out["logits"]!.dims, [2, 10]);
    if (s.provider === "cpu") assert.match(s.notes.join(" "), /CUDA provider/);
  } finally {
    await s.release();
  }
});

test("writeOptimizedModel writes the graph onnxruntime runs (fused: smaller node count, still loadable)", async () => {
  const out = join(tempDir("opt"), "opt.onnx");
  await writeOptimizedModel(BUNDLED_MODEL, out, "extended");
  assert.ok(statSync(out).size > 1_000_000);
  const original = loadModelFile(BUNDLED_MODEL).model.graph.nodes.length;
  const optimized = loadModelFile(out).model.graph.nodes.length;
  assert.ok(optimized < original, `optimized ${optimized} nodes, original ${original}`);
});

test("the RSS sampler sees a short-lived 256 MiB allocation made while the main thread is busy", async () => {
  const sampler = new RssSampler();
  await sampler.start();
  let buf: Uint8Array | undefined = new Uint8Array(256 << 20).fill(1);
  const spin = Date.now() + 50; // hold it while the main thread is blocked, as during an onnxruntime run
  while (Date.now() < spin) buf[0] = (buf[0]! + 1) & 0xff;
  buf = undefined;
  const m = await sampler.stop();
  assert.ok(m.peak - m.before >= 200 << 20, `peak ${m.peak} before ${m.before}`);
  assert.ok(m.samples > 0);
});
