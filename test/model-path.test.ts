/**
 * MODEL as a user gives it: a folder opens its model or names what it holds, a file is read for what it is
 * (its first bytes, not its name), and `layers` takes every kind of MODEL that analyze and fit take.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recognise } from "../src/formats/recognise.js";
import { tinyLlamaGguf } from "../src/formats/gguf-testing.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FOLDER = join(ROOT, "models/fashion-mobilenetv2");
const SAMPLE = join(FOLDER, "samples/0_t-shirt-top.png");

function memlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stdout + r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

/** GPT-2's config.json, as the ground truth's run recorded it (bench/groundtruth/h200-torch2.11.json). */
function gpt2Config(): string {
  const gt = JSON.parse(readFileSync(join(ROOT, "bench/groundtruth/h200-torch2.11.json"), "utf8")) as { hf_configs: Record<string, unknown> };
  return JSON.stringify(gt.hf_configs["gpt2"]);
}

test("a model folder opens its model: analyze, layers and fit", () => {
  for (const cmd of ["analyze", "layers", "fit"]) {
    const r = memlens(cmd, FOLDER);
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, /^model\.onnx/);
  }
});

test("a folder with no model or two names what it holds", () => {
  const dir = tempDir("model-path");
  const empty = join(dir, "empty");
  mkdirSync(empty);
  oneLine(memlens("analyze", empty), 2, /empty is a folder with no model: it is empty \(accepted: \.onnx/);
  writeFileSync(join(empty, "notes.txt"), "x");
  oneLine(memlens("layers", empty), 2, /is a folder with no model: it holds notes\.txt/);
  const two = join(dir, "two");
  mkdirSync(two);
  copyFileSync(join(FOLDER, "model.onnx"), join(two, "a.onnx"));
  copyFileSync(join(FOLDER, "model.onnx"), join(two, "b.onnx"));
  oneLine(memlens("analyze", two), 2, /is a folder with 2 models \(a\.onnx, b\.onnx\): name one/);
});

test("layers takes a hub folder, a config.json under any name and a .gguf, as analyze and fit do", () => {
  const dir = tempDir("model-path");
  const hub = join(dir, "gpt2");
  mkdirSync(hub);
  writeFileSync(join(hub, "config.json"), gpt2Config());
  const renamed = join(dir, "gpt2-config.json");
  writeFileSync(renamed, gpt2Config());
  const gguf = join(dir, "tiny.gguf");
  writeFileSync(gguf, tinyLlamaGguf().bytes);
  // A .gguf runs on llama.cpp by default (no graph to list: analyze shows its buffers); on pytorch-cuda it is the architecture.
  const pytorch = (model: string): string[] => (model === gguf ? ["--runtime", "pytorch-cuda"] : []);
  for (const model of [hub, renamed, gguf]) {
    for (const cmd of ["layers", "analyze"]) {
      const r = memlens(cmd, model, "--dim", "seq=64", ...pytorch(model));
      assert.equal(r.code, 0, `${cmd} ${model}: ${r.stderr}`);
    }
    const layers = JSON.parse(memlens("layers", model, "--dim", "seq=64", "--json", ...pytorch(model)).stdout) as { layers: unknown[]; settings: { inputs: Record<string, number[]> } };
    assert.ok(layers.layers.length > 10);
    assert.deepEqual(Object.values(layers.settings.inputs)[0], [1, 64]);
  }
  assert.match(memlens("fit", renamed, "--device", "t4", "--dim", "seq=64").stdout, /gpt2-config\.json: largest batch on t4: \d+/);
});

test("a file is named for what it is: an image, a JSON that is no config, an archive", () => {
  const dir = tempDir("model-path");
  oneLine(memlens("analyze", SAMPLE), 2, /0_t-shirt-top\.png is a PNG image, not a model \(accepted: \.onnx, a model hub folder or its config\.json/);
  oneLine(memlens("layers", SAMPLE), 2, /is a PNG image, not a model/);
  // predict and the page read ONNX only: the reader names the file instead of "corrupt protobuf".
  oneLine(memlens("predict", SAMPLE, SAMPLE), 2, /a PNG image, not an ONNX model; accepted:/);
  oneLine(memlens("analyze", join(FOLDER, "model.json")), 2, /model\.json: a JSON file with no model_type: not a transformers config\.json/);
  const zip = join(dir, "model.pt");
  writeFileSync(zip, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  oneLine(memlens("analyze", zip), 2, /model\.pt is a ZIP archive \(a PyTorch \.pt\/\.pth checkpoint is one: export it to ONNX\), not a model/);
});

test("recognise: magic numbers, and an ONNX file is left to the ONNX reader", () => {
  assert.equal(recognise(new Uint8Array(readFileSync(SAMPLE).subarray(0, 64))), "png");
  assert.equal(recognise(new Uint8Array(readFileSync(join(FOLDER, "model.onnx")).subarray(0, 64))), "onnx-or-unknown");
  assert.equal(recognise(new TextEncoder().encode('  {"model_type": "gpt2"}')), "json");
  assert.equal(recognise(tinyLlamaGguf().bytes.subarray(0, 64)), "gguf");
  const st = new Uint8Array(16);
  st[0] = 40;
  st.set(new TextEncoder().encode('{"a'), 8);
  assert.equal(recognise(st), "safetensors");
  assert.equal(recognise(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "jpeg");
  assert.equal(recognise(new Uint8Array()), "onnx-or-unknown");
});

test("the page names a dropped PNG as an image, not a corrupt protobuf", async () => {
  const { loadFiles } = await import("../web/files.js");
  const png = new File([readFileSync(SAMPLE)], "photo.png");
  await assert.rejects(loadFiles([png]), /a PNG image, not an ONNX model; accepted: \.onnx/);
});
