/** External data in If/Loop bodies and Constant nodes is checked at load like the main graph's (issue 13). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelFormatError } from "../src/errors.js";
import type { Graph, Tensor } from "../src/graph/ir.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { MemorySource } from "../src/formats/source.js";
import { writeModelFile } from "../src/formats/onnx/testing.js";
import { buildModel } from "../src/shapes/testing.js";
import { tempDir } from "./temp.js";

function external(name: string, location: string): Tensor {
  return { name, dtype: "int64", dims: [3], elements: 3, bytes: 24, data: { kind: "external", location, offset: 0, length: 24 }, source: new MemorySource(new Uint8Array(0)) };
}

/** If(cond) whose then-branch holds the initializer `t` (or, with `asConstant`, a Constant node holding it). */
function ifModel(t: Tensor, asConstant: boolean) {
  const branch = (withTensor: boolean): Graph => ({
    name: withTensor ? "then" : "else",
    nodes: withTensor && asConstant ? [{ name: "c", opType: "Constant", domain: "", inputs: [], outputs: ["s"], attrs: { value: { type: "tensor", value: { ...t, name: "s" } } } }] : [],
    inputs: [],
    outputs: [{ name: withTensor ? "s" : "e", type: { kind: "tensor", dtype: "int64", shape: [3] } }],
    initializers: new Map(withTensor && !asConstant ? [["s", { ...t, name: "s" }]] : [["e", { ...t, name: "e", data: { kind: "embedded", proto: { offset: 0, length: 0 }, raw: { offset: 0, length: 24 } }, source: new MemorySource(new Uint8Array(24)) }]]),
    valueInfo: new Map(),
  });
  return buildModel({
    inputs: { cond: { dtype: "bool", shape: [] } },
    nodes: [{ op: "If", inputs: ["cond"], outputs: ["y"], attrs: { then_branch: { type: "graph", value: branch(true) }, else_branch: { type: "graph", value: branch(false) } } }],
    outputs: ["y"],
    opset: 17,
  });
}

test("a body's external data that links out of the model's folder is refused at load (initializer and Constant)", () => {
  const root = tempDir("ext-body");
  const model = join(root, "model");
  mkdirSync(model);
  writeFileSync(join(root, "secret.bin"), new Uint8Array(24));
  symlinkSync(join(root, "secret.bin"), join(model, "link.bin"));
  for (const asConstant of [false, true]) {
    writeModelFile(join(model, "m.onnx"), ifModel(external("s", "link.bin"), asConstant));
    assert.throws(() => loadModelFile(join(model, "m.onnx")), (e: unknown) => e instanceof ModelFormatError && /link out of the model's folder/.test(e.message), `constant: ${asConstant}`);
    writeModelFile(join(model, "m.onnx"), ifModel(external("s", "../secret.bin"), asConstant));
    assert.throws(() => loadModelFile(join(model, "m.onnx")), (e: unknown) => e instanceof ModelFormatError && /escapes the model's folder/.test(e.message), `constant: ${asConstant}`);
  }
});
