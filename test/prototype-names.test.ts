/**
 * Names from files are keys like any other (issue 13): `__proto__`, `constructor` and `toString` as an input
 * name, a dimension name or a safetensors dtype give the same answer as any other name, never
 * "override.slice is not a function", "shape is not iterable" or "needs NaN".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { parseDType } from "../src/graph/dtype.js";
import { buildModel } from "../src/shapes/testing.js";
import { sym } from "../src/sym/expr.js";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

test("an input or a dimension named like an Object.prototype member analyses like any other", () => {
  const dir = tempDir("proto");
  for (const name of NAMES) {
    const asInput = buildModel({ inputs: { [name]: { dtype: "float32", shape: ["batch", 4] } }, nodes: [{ op: "Relu", inputs: [name], outputs: ["y"] }], outputs: ["y"], opset: 17 });
    // buildModel's object literal cannot hold an own "__proto__" key: name the input afterwards.
    asInput.graph.inputs[0]!.name = name;
    writeModelFile(join(dir, "input.onnx"), asInput);
    const r = run("analyze", join(dir, "input.onnx"), "--batch", "3", "--json");
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout).settings.inputs[name], [3, 4], name);
    const asDim = buildModel({ inputs: { x: { dtype: "float32", shape: [1, "d"] } }, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], outputs: ["y"], opset: 17 });
    asDim.graph.inputs[0]!.type = { kind: "tensor", dtype: "float32", shape: [1, sym(name)] };
    writeModelFile(join(dir, "dim.onnx"), asDim);
    const d = run("analyze", join(dir, "dim.onnx"), "--json");
    assert.equal(d.status, 0, `${name}: ${d.stderr}`);
    // Unset, the dimension takes the stated default with a warning, as any other name does.
    assert.deepEqual(JSON.parse(d.stdout).settings.inputs.x, [1, 128], name);
    const given = run("analyze", join(dir, "dim.onnx"), "--dim", `${name}=7`, "--json");
    assert.deepEqual(JSON.parse(given.stdout).settings.inputs.x, [1, 7], name);
  }
});

test("a dtype named __proto__ or constructor is an unknown dtype, by name", () => {
  for (const name of NAMES) assert.equal(parseDType(name), undefined, name);
  const dir = tempDir("proto-st");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "gpt2", n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_positions: 64 }));
  const header = Buffer.from(JSON.stringify({ a: { dtype: "__proto__", shape: [4], data_offsets: [0, 16] } }));
  const file = Buffer.alloc(8 + header.length + 16);
  file.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(file, 8);
  writeFileSync(join(dir, "model.safetensors"), file);
  const r = run("analyze", dir, "--dim", "seq=8");
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /tensor 'a' has unknown dtype "__proto__"/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
