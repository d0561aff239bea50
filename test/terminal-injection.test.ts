/**
 * Strings from files never reach the terminal raw (issue 13): labels from model.json, node and value names from
 * the graph, and names in error messages have their control characters escaped; memlens's own layout (newlines)
 * stays, and --json stays valid JSON holding the same strings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { buildModel } from "../src/shapes/testing.js";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const FASHION = join(process.cwd(), "models", "fashion-mobilenetv2");
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

test("labels holding ANSI escapes print escaped", () => {
  const dir = tempDir("inject");
  copyFileSync(join(FASHION, "model.onnx"), join(dir, "model.onnx"));
  const labels = Array.from({ length: 10 }, (_, i) => `\u001b[2J\u001b[31mclass${i}\u0007\u009b`);
  const sidecar = JSON.parse(readFileSync(join(FASHION, "model.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(dir, "model.json"), JSON.stringify({ ...sidecar, labels }));
  const r = run("predict", join(dir, "model.onnx"), join(FASHION, "samples", "0_t-shirt-top.png"));
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, RAW);
  assert.match(r.stdout, /\\u001b\[2J\\u001b\[31mclass\d\\u0007\\u009b/);
});

test("node and value names holding escapes print escaped in analyze and layers; --json keeps the same string", () => {
  const dir = tempDir("inject-names");
  const evil = "y\u001b]0;owned\u0007\u202e";
  const model = buildModel({ inputs: { x: { dtype: "float32", shape: [1, 4] } }, nodes: [{ op: "Relu", inputs: ["x"], outputs: [evil], name: "n\u001b[2J" }], outputs: [evil], opset: 17 });
  writeModelFile(join(dir, "m.onnx"), model);
  for (const cmd of ["analyze", "layers"]) {
    const r = run(cmd, join(dir, "m.onnx"));
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, RAW, cmd);
  }
  const j = run("layers", join(dir, "m.onnx"), "--json");
  assert.doesNotMatch(j.stdout, RAW);
  assert.ok(j.stdout.includes(JSON.stringify(evil).slice(1, -1).replace("\u202e", "\\u202e")));
  // An error naming a file-sourced name: one line, escaped.
  const e = run("analyze", join(dir, "m.onnx"), "--input", "nope\u001b[2J=1x4");
  assert.equal(e.status, 1);
  assert.doesNotMatch(e.stderr, RAW);
  assert.equal(e.stderr.trim().split("\n").length, 1);
});
