import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyzeModel } from "../../analyze.js";
import { loadModelFile } from "../../formats/load-node.js";
import { DYNAMO_FIXTURES, LEGACY_FIXTURES } from "../../../bench/shared.js";
import { parseWebGpuLimits, WEBGPU_PRESETS } from "./limits.js";

interface WebGpu {
  largestBuffer: { name: string; bytes: number };
  fits: boolean;
  fix: string;
  limits: { maxBufferSize: number };
}

function webgpu(file: string, opts: Parameters<typeof analyzeModel>[1]): WebGpu {
  const { model, openExternal, source } = loadModelFile(file);
  try {
    return analyzeModel(model, { ...opts, runtime: "ort-webgpu", device: "cpu", memory: true, openExternal }).report.memory!["webgpu"] as WebGpu;
  } finally {
    source.close();
  }
}

test("gpt2 at seq 1024 on WebGPU's default limits: the logits are the largest buffer; the fix is computed (seq <= 667, or fp16)", () => {
  const w = webgpu(join(DYNAMO_FIXTURES, "gpt2.onnx"), { dims: { seq: 1024 } });
  assert.equal(w.largestBuffer.name, "linear");
  assert.equal(w.largestBuffer.bytes, 1024 * 50257 * 4);
  assert.equal(w.fits, false);
  // 50257 * 4 * 667 = 134,085,676 <= 128 MiB < 50257 * 4 * 668.
  assert.match(w.fix, /seq 667 or less/);
  // The tied embedding (154 MB) is over the binding limit too: fp16 is enough for it.
  assert.match(w.fix, /weight '[^']+' \(154389504 bytes\): fp16/);
});

test("vit_b_16 at batch 1 fits WebGPU's defaults; vgg16's 411 MB classifier weight needs int8, and fits a 1 GiB adapter", () => {
  const vit = webgpu(join(LEGACY_FIXTURES, "vit_b_16.onnx"), { batch: 1 });
  assert.equal(vit.fits, true);
  assert.equal(vit.largestBuffer.bytes, 768 * 3072 * 4);
  const vgg = webgpu(join(LEGACY_FIXTURES, "vgg16.onnx"), { batch: 1 });
  assert.equal(vgg.largestBuffer.bytes, 25088 * 4096 * 4);
  assert.match(vgg.fix, /int8/);
  assert.equal(webgpu(join(LEGACY_FIXTURES, "vgg16.onnx"), { batch: 1, webgpuLimits: WEBGPU_PRESETS["1gib"]! }).fits, true);
});

test("--webgpu-limits files: GPUSupportedLimits JSON is read; anything else is one clear error", () => {
  const l = parseWebGpuLimits('{"limits": {"maxBufferSize": 1073741824, "maxStorageBufferBindingSize": 134217728}}', "adapter.json");
  assert.equal(l.maxBufferSize, 1073741824);
  assert.equal(l.source, "adapter.json");
  assert.throws(() => parseWebGpuLimits("not json", "x.json"), /not JSON/);
  assert.throws(() => parseWebGpuLimits('{"maxBufferSize": -1, "maxStorageBufferBindingSize": 5}', "x.json"), /maxBufferSize must be a positive integer/);
});
