/**
 * `--value NAME=V` for integer/bool inputs (issue 15): a value decides an If's condition, so only the
 * branch it picks is inferred, listed under its If (layer table, profile) and, for ort-cpu, run on the
 * same arena as the outer graph. Small graphs built in memory, and silero_vad_v5 from the foreign set.
 */
import { test } from "node:test";
import assert from "node:assert/strict";

import type { Attr } from "../src/graph/ir.js";
import { analyzeModel } from "../src/analyze.js";
import { parseValueSpec } from "../src/cli/options.js";
import { buildModel, type GraphSpec } from "../src/shapes/testing.js";
import { buildOrtGraph } from "../src/memory/ort/graph.js";
import { renderLayers } from "../src/report/layers-table.js";
import { compareRun } from "../src/runtime/compare.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { unzipForeign } from "../bench/ort-measure.js";
import { tempDir } from "./temp.js";
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";

const graph = (spec: GraphSpec): Attr => ({ type: "graph", value: buildModel(spec).graph });

/** sr == 16000 ? x*2 (through a Relu) : Flatten(x): the branches differ in rank, as silero's do. */
function srModel() {
  const then_branch = graph({ inputs: {}, nodes: [{ op: "Mul", inputs: ["x", "x"], outputs: ["t1"], name: "mul" }, { op: "Relu", inputs: ["t1"], outputs: ["t2"], name: "relu" }], outputs: ["t2"] });
  const else_branch = graph({ inputs: {}, nodes: [{ op: "Flatten", inputs: ["x"], outputs: ["e1"], name: "flat" }], outputs: ["e1"] });
  return buildModel({
    inputs: { x: { dtype: "float32", shape: [4, 256, 64] }, sr: { dtype: "int64", shape: [] } },
    initializers: [],
    nodes: [
      { op: "Constant", inputs: [], outputs: ["k"], attrs: { value_int: 16000 }, name: "k" },
      { op: "Equal", inputs: ["sr", "k"], outputs: ["c"], name: "eq" },
      { op: "If", inputs: ["c"], outputs: ["y"], attrs: { then_branch, else_branch }, name: "if" },
    ],
    outputs: ["y"],
    opset: 17,
  });
}

test("parseValueSpec: integers and true/false; anything else is a usage error", () => {
  assert.deepEqual(parseValueSpec("sr=16000"), ["sr", 16000]);
  assert.deepEqual(parseValueSpec("a.b:c=-3"), ["a.b:c", -3]);
  assert.deepEqual(parseValueSpec("flag=true"), ["flag", 1]);
  assert.throws(() => parseValueSpec("sr=16k"), /integer or true\/false/);
  assert.throws(() => parseValueSpec("=1"), /NAME=V/);
});

test("--value picks the If branch: outputs concrete, the branch's nodes listed under the If, no warning", () => {
  const m = srModel();
  const unknown = analyzeModel(m, {});
  assert.match(unknown.report.warnings.join("\n"), /condition unknown/);
  const a = analyzeModel(m, { values: { sr: 16000 } });
  assert.deepEqual(a.report.warnings, []);
  const names = a.report.layers.map((l) => `${l.parent ?? ""}:${l.name}`);
  assert.deepEqual(names, [":k", ":eq", ":if", "if/then_branch:mul", "if/then_branch:relu"]);
  assert.deepEqual(a.report.layers.find((l) => l.name === "if")!.outputs[0]!.shape, [4, 256, 64]);
  const other = analyzeModel(m, { values: { sr: 8000 } });
  assert.deepEqual(other.report.layers.find((l) => l.name === "if")!.outputs[0]!.shape, [4, 16384]);
  assert.deepEqual(other.report.layers.filter((l) => l.parent).map((l) => l.name), ["flat"]);
  // The layer table indents them under their If.
  assert.match(renderLayers(a.report), /\n {2}mul +Mul/);
  assert.throws(() => analyzeModel(m, { values: { rate: 1 } }), /no input 'rate'/);
});

test("ort-cpu: the branch an If takes runs on the outer arena: its nodes are in the modelled graph, its outputs the If's", () => {
  const m = srModel();
  const a = analyzeModel(m, { values: { sr: 16000 } });
  const g = buildOrtGraph(m, a.inference, a.bindings, { nchwcBlock: 0 });
  // The condition is still computed from the input; the If itself is gone.
  assert.deepEqual(g.nodes.map((n) => n.op).sort(), ["Equal", "Mul", "Relu"]);
  assert.deepEqual(g.nodes.find((n) => n.op === "Relu")!.outputs, ["y"]);
  assert.equal(g.tensors.get("t1")!.bytes, 4 * 256 * 64 * 4);
  // Unknown condition: the If stays one node.
  const u = analyzeModel(m, {});
  assert.deepEqual(buildOrtGraph(m, u.inference, u.bindings, { nchwcBlock: 0 }).nodes.map((n) => n.op), ["Equal", "If"]);
});

test("profile: body nodes onnxruntime ran are matched under their If, not 'inserted by the runtime'", () => {
  const m = srModel();
  const node = (name: string, op: string, dims: number[]) => ({ name, op, provider: "CPUExecutionProvider", outputs: [{ type: "float", dims }], outputSize: dims.reduce((x, y) => x * y, 4), activationSize: 0, parameterSize: 0, durationUs: 1 });
  const run = { durationUs: 10, nodes: [node("eq", "Equal", []), node("mul", "Mul", [4, 256, 64]), node("relu", "Relu", [4, 256, 64]), node("if", "If", [4, 256, 64])] };
  run.nodes[0]!.outputs[0]!.type = "bool";
  run.nodes[0]!.outputSize = 1;
  const c = compareRun(m, { x: [4, 256, 64], sr: [] }, run, { sr: 16000 });
  const mul = c.layers.find((l) => l.name === "mul")!;
  assert.equal(mul.parent, "if/then_branch");
  assert.equal(mul.agree, true);
  assert.ok(!c.layers.some((l) => /inserted by the runtime/.test(l.reason ?? "")));
});

test("silero_vad_v5 (foreign set): --value sr=16000 makes every output concrete, with no warning", () => {
  const dir = tempDir("silero");
  try {
    const file = unzipForeign("silero_vad_v5.onnx", dir);
    const { model, source } = loadModelFile(file);
    try {
      const a = analyzeModel(model, { inputs: { input: [1, 512], state: [2, 1, 128] }, values: { sr: 16000 } });
      assert.deepEqual(a.report.warnings, []);
      const out = new Map(a.report.layers.flatMap((l) => l.outputs).map((o) => [o.name, o.shape]));
      assert.deepEqual(out.get("output"), [1, 1]);
      assert.deepEqual(out.get("stateN"), [2, 1, 128]);
      // Its weights sit in the If branches: every runtime's weights line counts them (both branches, once each).
      const torch = analyzeModel(model, { inputs: { input: [1, 512], state: [2, 1, 128] }, values: { sr: 16000 }, memory: true });
      assert.ok(torch.report.memory!.weights >= 0.95 * a.report.model.weightBytes, `pytorch-cuda weights ${torch.report.memory!.weights}`);
    } finally {
      source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});



test("memlens profile silero_vad_v5 --input ... --value sr=16000: onnxruntime runs it, every node agrees, branch nodes under their If", () => {
  const dir = tempDir("silero-profile");
  try {
    const file = unzipForeign("silero_vad_v5.onnx", dir);
    const r = spawnSync(process.execPath, ["bin/memlens.js", "profile", file, "--input", "input=1x512", "--input", "state=2x1x128", "--value", "sr=16000", "--provider", "cpu", "--json"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { disagreements: number; layers: { name: string; parent?: string; measured: unknown }[] };
    assert.equal(j.disagreements, 0);
    const inBranch = j.layers.filter((l) => l.parent?.endsWith("then_branch") && l.measured);
    assert.ok(inBranch.length > 50, `${inBranch.length} measured nodes under the If's then_branch`);
    // A float input cannot take a value.
    const bad = spawnSync(process.execPath, ["bin/memlens.js", "profile", file, "--input", "input=1x512", "--input", "state=2x1x128", "--value", "input=1"], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--value is for integer and bool inputs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
