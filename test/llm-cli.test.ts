import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

/** A hub folder: config.json and a model.safetensors whose header holds every GPT-2 tensor (no weights read). */
function gpt2Folder(layers: number): string {
  const dir = tempDir("llm");
  const cfg = { model_type: "gpt2", n_embd: 64, n_layer: layers, n_head: 4, vocab_size: 1000, n_positions: 256, torch_dtype: "float16" };
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  const h = 64;
  const tensors: [string, number[]][] = [["wte.weight", [1000, h]], ["wpe.weight", [256, h]], ["ln_f.weight", [h]], ["ln_f.bias", [h]]];
  for (let l = 0; l < layers; l++) {
    tensors.push([`h.${l}.ln_1.weight`, [h]], [`h.${l}.ln_1.bias`, [h]], [`h.${l}.attn.c_attn.weight`, [h, 3 * h]], [`h.${l}.attn.c_attn.bias`, [3 * h]]);
    tensors.push([`h.${l}.attn.c_proj.weight`, [h, h]], [`h.${l}.attn.c_proj.bias`, [h]], [`h.${l}.ln_2.weight`, [h]], [`h.${l}.ln_2.bias`, [h]]);
    tensors.push([`h.${l}.mlp.c_fc.weight`, [h, 4 * h]], [`h.${l}.mlp.c_fc.bias`, [4 * h]], [`h.${l}.mlp.c_proj.weight`, [4 * h, h]], [`h.${l}.mlp.c_proj.bias`, [h]]);
  }
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: "F16", shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const file = Buffer.alloc(8 + json.length + off);
  file.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(file, 8);
  writeFileSync(join(dir, "model.safetensors"), file);
  return dir;
}

test("analyze a hub folder: parameters from safetensors headers, memory from the architecture", () => {
  const dir = gpt2Folder(2);
  const r = run("analyze", dir, "--dim", "seq=128", "--batch", "4", "--json");
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.schema, "memlens/analysis@1");
  assert.equal(rep.model.format, "safetensors");
  const h = 64;
  const perLayer = 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + 2 * h + (h * 4 * h + 4 * h) + (4 * h * h + h);
  assert.equal(rep.model.parameters, 1000 * h + 256 * h + 2 * h + 2 * perLayer);
  assert.equal(rep.model.weightBytes, rep.model.parameters * 2);
  assert.equal(rep.settings.dtype, "fp16", "the saved dtype is the default");
  // The forward's peak holds the logits: batch x seq x vocab x 2 bytes, at least.
  assert.ok(rep.memory.activationPeak >= 4 * 128 * 1000 * 2);
  assert.ok(rep.memory.total > rep.memory.peakReserved);
});

test("generation adds the KV cache; a longer context costs more", () => {
  const dir = gpt2Folder(2);
  const a = JSON.parse(execFileSync(process.execPath, [CLI, "analyze", join(dir, "config.json"), "--mode", "generate", "--dim", "seq=64", "--new-tokens", "32", "--json"], { encoding: "utf8" }));
  assert.equal(a.memory.kvCache, 2 * 2 * 4 * 16 * (64 + 32 - 1) * 1 * 2);
  const b = JSON.parse(execFileSync(process.execPath, [CLI, "analyze", dir, "--mode", "generate", "--dim", "seq=160", "--new-tokens", "32", "--json"], { encoding: "utf8" }));
  assert.ok(b.memory.activationPeak > a.memory.activationPeak);
});

test("fit solves the batch, and the context up to the model's positions", () => {
  const dir = gpt2Folder(2);
  const fb = JSON.parse(execFileSync(process.execPath, [CLI, "fit", dir, "--device", "t4", "--dim", "seq=256", "--json"], { encoding: "utf8" }));
  assert.equal(fb.device, "t4");
  assert.ok(fb.maxBatch > 1 && fb.total <= fb.capacity);
  const fs = JSON.parse(execFileSync(process.execPath, [CLI, "fit", dir, "--device", "h100", "--solve", "seq", "--json"], { encoding: "utf8" }));
  assert.equal(fs.maxContext, 256, "a tiny model fits every position it has");
});

test("a config of an unmodelled architecture is one line and exit 2", () => {
  const dir = tempDir("llm");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "mamba" }));
  const r = run("analyze", dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^memlens: .*model_type 'mamba' is not modelled/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
