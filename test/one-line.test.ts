/** onnxruntime's own log lines never reach stderr: a model it refuses is memlens's one line, exit 2 (issue 13). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { buildModel } from "../src/shapes/testing.js";
import { tempDir } from "./temp.js";

const CLI = join(process.cwd(), "bin", "memlens.js");

test("a model onnxruntime refuses: one line, no [E:onnxruntime] log line, exit 2", () => {
  const dir = tempDir("oneline");
  // Softmax has no int32 kernel: onnxruntime refuses the model at load, and (profiling) logs an error too.
  const m = buildModel({ inputs: { x: { dtype: "int32", shape: [1, 4] } }, nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"] }], outputs: ["y"], opset: 17 });
  writeModelFile(join(dir, "m.onnx"), m);
  const r = spawnSync(process.execPath, [CLI, "profile", join(dir, "m.onnx")], { encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /\[E:onnxruntime|\u001b/);
  assert.match(r.stderr, /^memlens: onnxruntime could not load the model: .*Softmax/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});
