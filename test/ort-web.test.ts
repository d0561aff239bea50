/**
 * `--runtime ort-wasm` against onnxruntime-web's measured wasm heap (bench/groundtruth/ort-web*.json), and the
 * contract fields checks read: memory.limit for ort-wasm, memory.webgpu for ort-webgpu.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { compareOrtWeb, compareWebGpu, medianAbs } from "../bench/ort-web-lib.js";
import { GROUNDTRUTH } from "../bench/shared.js";

const FASHION = "models/fashion-mobilenetv2/model.onnx";

function analyzeJson(...args: string[]): { memory: Record<string, unknown> } {
  const r = spawnSync(process.execPath, ["bin/memlens.js", "analyze", ...args, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { memory: Record<string, unknown> };
}

test("analyze --runtime ort-wasm --json: the wasm heap after runs 1 and 2, and memory.limit", () => {
  const m = analyzeJson(FASHION, "--runtime", "ort-wasm", "--device", "cpu").memory;
  const limit = m["limit"] as { name: string; bytes: number; fits: boolean; overBy: number };
  assert.deepEqual(Object.keys(limit).sort(), ["bytes", "fits", "name", "overBy"]);
  assert.equal(limit.name, "wasm32 heap");
  assert.equal(limit.bytes, 4294901760);
  assert.equal(limit.fits, true);
  assert.equal(limit.overBy, 0);
  assert.ok((m["afterRun2"] as number) >= (m["afterRun1"] as number) && (m["afterRun1"] as number) > 16 * 2 ** 20);
});

test("analyze --runtime ort-webgpu --json: memory.webgpu with the limits and where they come from", () => {
  const w = analyzeJson(FASHION, "--runtime", "ort-webgpu", "--device", "cpu", "--webgpu-limits", "default").memory["webgpu"] as Record<string, unknown>;
  assert.deepEqual(Object.keys(w).filter((k) => k !== "over").sort(), ["fits", "fix", "largestBuffer", "limits"]);
  const limits = w["limits"] as { maxBufferSize: number; maxStorageBufferBindingSize: number; source: string };
  assert.equal(limits.maxBufferSize, 268435456);
  assert.equal(limits.maxStorageBufferBindingSize, 134217728);
  assert.match(limits.source, /WebGPU spec/);
  assert.equal(w["fits"], true);
});

test("bench:ort-web's acceptance: median |error| <= 5% after runs 1 and 2 over >= 12 settings; the too-big setting is predicted not to fit and failed", () => {
  const file = readdirSync(GROUNDTRUTH).find((f) => /^ort-web.*-wasm-.*\.json$/.test(f));
  assert.ok(file, "no onnxruntime-web ground truth");
  const lines = compareOrtWeb(join(GROUNDTRUTH, file));
  const ok = lines.filter((l) => l.error);
  assert.ok(ok.length >= 12, `${ok.length} settings`);
  for (const k of ["run1", "run2"] as const) {
    const med = medianAbs(ok.map((l) => l.error![k]));
    assert.ok(med <= 0.05, `median |error| ${k} ${(med * 100).toFixed(1)}%`);
  }
  const big = lines.find((l) => l.tooBig);
  assert.ok(big, "no too-big setting measured");
  assert.equal(big.predicted.fits, false);
  assert.ok(big.predicted.overBy > 0);
  assert.match(big.measured.error ?? "", /bad_alloc/);
});

test("--runtime ort-webgpu names a buffer of the size onnxruntime-web's WebGPU EP allocated as its largest (gpt2, vit, ... on SwiftShader)", () => {
  const file = readdirSync(GROUNDTRUTH).find((f) => /^ort-web.*-webgpu-.*\.json$/.test(f));
  assert.ok(file, "no onnxruntime-web WebGPU ground truth");
  const lines = compareWebGpu(join(GROUNDTRUTH, file));
  const ran = lines.filter((l) => !l.measured.error);
  for (const key of ["gpt2@s128", "vit_b_16@b1"]) assert.ok(ran.some((l) => l.key === key), `${key} not measured`);
  for (const l of ran) assert.equal(l.predicted.bytes, l.measured.largest, `${l.key}: memlens names ${l.predicted.name}`);
  for (const l of lines.filter((x) => x.tooBig)) {
    assert.equal(l.predicted.fits, false, l.key);
    assert.ok(l.measured.error, `${l.key}: onnxruntime-web ran it`);
  }
});
