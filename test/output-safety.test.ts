/**
 * No output lands on an input (issue 13): the review's 14 overwrite cases for `analyze --html`, `analyze
 * --json=FILE` and `quantize -o` (a symlink or hard link to the model, the hub folder's config.json or shard,
 * the model's external data file or sidecar) all refuse before any work, and every input is byte-identical after.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tensor } from "../src/graph/ir.js";
import { MemorySource } from "../src/formats/source.js";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { buildModel } from "../src/shapes/testing.js";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

/** x[1,64] @ W[64,64], W in the external file w.bin; a sidecar model.json beside it. */
function onnxFolder(): { dir: string; model: string; files: string[] } {
  const dir = tempDir("outsafe");
  const elements = 64 * 64;
  const w = new Float32Array(elements).map((_, i) => Math.sin(i));
  writeFileSync(join(dir, "w.bin"), new Uint8Array(w.buffer));
  const weight: Tensor = {
    name: "W",
    dtype: "float32",
    dims: [64, 64],
    elements,
    bytes: elements * 4,
    data: { kind: "external", location: "w.bin", offset: 0, length: elements * 4 },
    source: new MemorySource(new Uint8Array(0)),
  };
  const model = buildModel({
    inputs: { x: { dtype: "float32", shape: [1, 64] } },
    initializers: [weight],
    nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
    outputs: ["y"],
    opset: 17,
  });
  writeModelFile(join(dir, "model.onnx"), model);
  writeFileSync(join(dir, "model.json"), JSON.stringify({ labels: ["a"] }));
  return { dir, model: join(dir, "model.onnx"), files: ["model.onnx", "w.bin", "model.json"].map((f) => join(dir, f)) };
}

/** A hub folder: config.json and model.safetensors (headers only matter). */
function hubFolder(): { dir: string; files: string[] } {
  const dir = tempDir("outsafe-hub");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "gpt2", n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_positions: 64 }));
  const header = Buffer.from(JSON.stringify({ "wte.weight": { dtype: "F32", shape: [100, 64], data_offsets: [0, 25600] } }));
  const file = Buffer.alloc(8 + header.length + 25600);
  file.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(file, 8);
  writeFileSync(join(dir, "model.safetensors"), file);
  return { dir, files: ["config.json", "model.safetensors"].map((f) => join(dir, f)) };
}

const snapshot = (files: string[]) => files.map((f) => readFileSync(f).toString("base64"));

function refuses(args: string[], files: string[], why: RegExp): void {
  const before = snapshot(files);
  const r = run(...args);
  assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
  assert.match(r.stderr, why);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(r.stdout, "", "refused before any work: nothing printed");
  assert.deepEqual(snapshot(files), before, `${args.join(" ")} changed an input`);
}

test("the 14 overwrite cases refuse before any work, and the inputs stay byte-identical", () => {
  const o = onnxFolder();
  symlinkSync(o.model, join(o.dir, "link.html"));
  linkSync(o.model, join(o.dir, "hard.html"));
  const h = hubFolder();
  symlinkSync(join(h.dir, "config.json"), join(h.dir, "cfg-link.json"));
  const all = [...o.files, ...h.files];
  const cases: string[][] = [];
  for (const flag of ["--html", "--json="]) {
    const as = (file: string) => (flag === "--html" ? ["--html", file] : [`--json=${file}`]);
    cases.push(["analyze", o.model, ...as(join(o.dir, "link.html"))]); // symlink to the model
    cases.push(["analyze", o.model, ...as(join(o.dir, "hard.html"))]); // hard link to the model
    cases.push(["analyze", o.model, ...as(join(o.dir, "w.bin"))]); // its external data
    cases.push(["analyze", h.dir, ...as(join(h.dir, "config.json"))]); // the hub folder's config
    cases.push(["analyze", h.dir, ...as(join(h.dir, "model.safetensors"))]); // its shard
  }
  for (const target of ["link.html", "hard.html", "w.bin", "model.json"]) cases.push(["quantize", o.model, "--mode", "dynamic", "-o", join(o.dir, target)]);
  assert.equal(cases.length, 14);
  for (const c of cases) refuses(c, all, /refusing to write over it/);
  // A symlink to the config, given as the output of an analysis of that config's folder.
  refuses(["analyze", h.dir, "--html", join(h.dir, "cfg-link.json")], all, /same file as the input/);
});

test("analyze --html M names M and prints nothing (the output is checked first)", () => {
  const o = onnxFolder();
  refuses(["analyze", o.model, "--html", o.model], o.files, /--html .*model\.onnx: that is the input .*model\.onnx/);
});

test("-o into a missing folder names the folder in one line, never the temporary file", () => {
  const o = onnxFolder();
  const r = run("quantize", o.model, "--mode", "dynamic", "-o", join(o.dir, "nope", "q.onnx"));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^memlens: -o .*nope\/q\.onnx: folder .*nope does not exist\n$/);
  assert.doesNotMatch(r.stderr, /\.tmp/);
});

test("a read-only target is refused without --force; --force replaces it and keeps its mode", () => {
  const o = onnxFolder();
  const out = join(o.dir, "r.json");
  writeFileSync(out, "old");
  chmodSync(out, 0o444);
  const r = run("analyze", o.model, `--json=${out}`);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /read-only; --force replaces it/);
  assert.equal(readFileSync(out, "utf8"), "old");
  const forced = run("analyze", o.model, `--json=${out}`, "--force");
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(out, "utf8")).schema, "memlens/analysis@1");
  assert.equal(statSync(out).mode & 0o777, 0o444);
});

test("quantize -o into another folder embeds the external weights, so no reference dangles", () => {
  const o = onnxFolder();
  const elsewhere = tempDir("outsafe-else");
  const out = join(elsewhere, "q.onnx");
  const r = run("quantize", o.model, "--mode", "dynamic", "-o", out, "--json");
  assert.equal(r.status, 0, r.stderr);
  const a = run("analyze", out, "--json");
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(readdirSync(elsewhere), ["q.onnx"]);
  assert.ok(existsSync(out));
});

test("layers and fit take --json=FILE through the same writer: refused over an input, written elsewhere", () => {
  const o = onnxFolder();
  const h = hubFolder();
  refuses(["layers", o.model, `--json=${o.model}`], o.files, /refusing to write over it/);
  refuses(["fit", o.model, `--json=${join(o.dir, "w.bin")}`], o.files, /refusing to write over it/);
  refuses(["fit", h.dir, "--dim", "seq=8", `--json=${join(h.dir, "model.safetensors")}`], h.files, /refusing to write over it/);
  const out = join(o.dir, "layers.json");
  const r = run("layers", o.model, `--json=${out}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(out, "utf8")).layers.length, 1);
  const f = join(h.dir, "fit.json");
  const fr = run("fit", h.dir, "--dim", "seq=8", `--json=${f}`);
  assert.equal(fr.status, 0, fr.stderr);
  assert.ok(JSON.parse(readFileSync(f, "utf8")).maxBatch > 0);
});
