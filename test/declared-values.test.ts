/**
 * Declared values are validated before any estimate (issue 13): each case the review found exits 2 with one
 * line naming the value, where it used to exit 0 with nonsense ("512 B", "7.3e47 GiB", "-238 GiB").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { MemorySource } from "../src/formats/source.js";
import { buildModel, constTensor } from "../src/shapes/testing.js";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

function oneLine(args: string[], status: number, why: RegExp): void {
  const r = run(...args);
  assert.equal(r.status, status, `${args.join(" ")}: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  assert.match(r.stderr, why);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
}

function relu(shape: number[]): ReturnType<typeof buildModel> {
  return buildModel({ inputs: { x: { dtype: "float32", shape } }, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], outputs: ["y"], opset: 17 });
}

test("ONNX: negative and huge declared dims, a 4 TB ConstantOfShape and a value with two producers exit 2 naming the value", () => {
  const dir = tempDir("declared");
  const file = (name: string, m: ReturnType<typeof buildModel>) => (writeModelFile(join(dir, name), m), join(dir, name));
  oneLine(["analyze", file("neg.onnx", relu([-5, 3, 32, 32]))], 2, /input 'x' declares dimension -5 in \[-5, 3, 32, 32\]/);
  oneLine(["profile", join(dir, "neg.onnx"), "--random-weights"], 2, /input 'x' declares dimension -5/);
  oneLine(["analyze", file("huge.onnx", relu([2 ** 40, 2 ** 40, 2 ** 40]))], 2, /input 'x' declares dimension 1099511627776 .*over the limit of 2147483647/);
  oneLine(["analyze", file("big.onnx", relu([2 ** 30, 2 ** 30]))], 2, /input 'x' declares \[1073741824, 1073741824\] float32: 4\.19e\+6 TiB, over the limit of 1\.00 TiB/);
  const cos = buildModel({
    inputs: { x: { dtype: "float32", shape: [1] } },
    initializers: [constTensor("shape", "int64", [2], [1_000_000, 1_000_000])],
    nodes: [{ op: "ConstantOfShape", inputs: ["shape"], outputs: ["c"], name: "fill" }, { op: "Add", inputs: ["x", "c"], outputs: ["y"] }],
    outputs: ["y"],
    opset: 17,
  });
  oneLine(["analyze", file("cos.onnx", cos), "--runtime", "ort-cpu", "--device", "cpu"], 2, /ConstantOfShape node 'fill': its constant shape \[1000000, 1000000\] asks for 3\.64 TiB/);
  const dup = buildModel({
    inputs: { x: { dtype: "float32", shape: [1, 4] } },
    nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"], name: "a" }, { op: "Neg", inputs: ["x"], outputs: ["y"], name: "b" }],
    outputs: ["y"],
    opset: 17,
  });
  oneLine(["analyze", file("dup.onnx", dup)], 2, /value 'y' is produced by two nodes \('a' and 'b'\)/);
  // A weight declared at 4 TiB, its bytes in an external file that is not there: the claim alone is refused.
  const elements = 2 ** 40;
  const huge = buildModel({
    inputs: { x: { dtype: "float32", shape: [1] } },
    initializers: [{ name: "w", dtype: "float32", dims: [2 ** 20, 2 ** 20], elements, bytes: elements * 4, data: { kind: "external", location: "w.bin", offset: 0, length: elements * 4 }, source: new MemorySource(new Uint8Array(0)) }],
    nodes: [{ op: "Add", inputs: ["x", "w"], outputs: ["y"] }],
    outputs: ["y"],
    opset: 17,
  });
  oneLine(["analyze", file("weight.onnx", huge)], 2, /tensor 'w' declares \[1048576, 1048576\] float32: 4\.00 TiB, over the limit of 1\.00 TiB/);
  // A converter's -1 for "dynamic" is read as an unknown dimension, with a warning, not refused.
  const r = run("analyze", file("minus1.onnx", relu([-1, 4])), "--json");
  assert.equal(r.status, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout) as { warnings: string[] }).warnings.some((w) => /declared dimension -1/.test(w)));
});

test("--input past the dimension limit is refused naming the value", () => {
  const dir = tempDir("declared-input");
  writeModelFile(join(dir, "m.onnx"), relu([1, 4]));
  oneLine(["analyze", join(dir, "m.onnx"), "--input", "x=100000000000000000000x4"], 2, /--input x=100000000000000000000x4: dimension 100000000000000000000 is over the limit/);
});

test("config.json: negative or fractional counts exit 2 naming the key and value", () => {
  const gpt2 = { model_type: "gpt2", n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_positions: 64 };
  const bert = { model_type: "bert", hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100, max_position_embeddings: 64 };
  const llama = { model_type: "llama", hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...gpt2, n_inner: -1000 }, /\(n_inner\) is -1000/],
    [{ ...bert, type_vocab_size: -2 }, /\(type_vocab_size\) is -2/],
    [{ ...llama, num_key_value_heads: -2 }, /\(num_key_value_heads\) is -2/],
    [{ ...llama, head_dim: -16 }, /\(head_dim\) is -16/],
    [{ ...llama, head_dim: 16.5 }, /\(head_dim\) is 16\.5/],
    [{ ...llama, max_position_embeddings: 100.5 }, /\(max_position_embeddings\) is 100\.5/],
    [{ ...llama, max_position_embeddings: -5 }, /\(max_position_embeddings\) is -5/],
    [{ ...gpt2, n_embd: 66 }, /hidden size 66 is not a multiple of 4 attention heads/],
  ];
  for (const [cfg, why] of cases) {
    const dir = tempDir("declared-cfg");
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    oneLine(["analyze", dir, "--dim", "seq=8"], 2, why);
  }
});

test("safetensors: overlapping data_offsets exit 2 naming both tensors", () => {
  const dir = tempDir("declared-st");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "gpt2", n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_positions: 64 }));
  const header = Buffer.from(JSON.stringify({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] }, b: { dtype: "F32", shape: [4], data_offsets: [8, 24] } }));
  const file = Buffer.alloc(8 + header.length + 24);
  file.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(file, 8);
  writeFileSync(join(dir, "model.safetensors"), file);
  oneLine(["analyze", dir, "--dim", "seq=8"], 2, /tensors 'a' and 'b' overlap/);
});

test("a model with fewer than 512 positions, and no --dim seq, uses its own limit and says so", () => {
  const dir = tempDir("declared-pos");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "gpt2", n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_positions: 256 }));
  for (const [mode, seq] of [["inference", 256], ["generate", 128]] as const) {
    const r = run("analyze", dir, "--mode", mode, "--json");
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { warnings: string[] };
    assert.ok(rep.warnings.some((w) => w.includes(`using ${seq} tokens, the most the model's 256 positions allow`)), rep.warnings.join("; "));
  }
});

test("the image path is bounded: a model declaring a 20,000^2 input, and preprocess.size in model.json", () => {
  const dir = tempDir("declared-img");
  const sample = join(process.cwd(), "models", "fashion-mobilenetv2", "samples", "0_t-shirt-top.png");
  writeModelFile(join(dir, "big.onnx"), relu([1, 3, 20000, 20000]));
  oneLine(["predict", join(dir, "big.onnx"), sample, "--resize"], 2, /model input 'x' \[1, 3, 20000, 20000\] asks for 20000x20000 images \(381 Mpixel\), over the limit of 64 Mpixel/);
  writeModelFile(join(dir, "model.onnx"), relu([1, 3, 32, 32]));
  writeFileSync(join(dir, "model.json"), JSON.stringify({ preprocess: { size: [20000, 20000] } }));
  oneLine(["predict", join(dir, "model.onnx"), sample], 2, /'preprocess\.size' must be at most 64 Mpixel/);
});
