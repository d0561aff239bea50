/**
 * Weights wherever they live: the foreign fixtures keep them in Constant nodes (paddle2onnx), in Constants
 * inside If branches (spox) and in If branches' own initializers (PyTorch 1.12's silero); a weight-heavy
 * file is almost all weights, so its weight bytes are close to its size. Attribute-number Constants and
 * sparse values count too, each tensor once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { graphWeights, weightTotals } from "./weights.js";
import type { Graph, Node, Tensor } from "./ir.js";
import { loadModelFile } from "../formats/load-node.js";
import { unzipForeign } from "../../bench/ort-measure.js";

test("foreign models: weights in Constant nodes and If bodies are counted, and make up the weight-heavy files", () => {
  const dir = mkdtempSync(join(tmpdir(), "memlens-weights-"));
  try {
    const expect: Record<string, { where: string; min: number }> = {
      "ch_PP-OCRv4_det_infer.onnx": { where: "constant", min: 0.95 },
      "ch_PP-OCRv4_rec_infer.onnx": { where: "constant", min: 0.95 },
      "silero_vad_v5.onnx": { where: "constant", min: 0.8 },
      "silero_vad_legacy.onnx": { where: "initializer", min: 0.8 },
      "imgly-medium.onnx": { where: "initializer", min: 0.95 },
    };
    for (const [file, e] of Object.entries(expect)) {
      const path = unzipForeign(file, dir);
      const { model, source } = loadModelFile(path);
      try {
        const { bytes } = weightTotals(model.graph);
        const size = statSync(path).size;
        assert.ok(bytes <= size && bytes >= e.min * size, `${file}: ${bytes} weight bytes in a ${size}-byte file`);
        const ws = graphWeights(model.graph);
        const main = model.graph.initializers.size;
        assert.ok(ws.filter((w) => w.where === e.where).reduce((a, w) => a + w.bytes, 0) > 0.5 * bytes, `${file}: most weights are ${e.where}s`);
        const inBodies = ws.filter((w) => w.subgraph).reduce((a, w) => a + w.bytes, 0);
        if (file.startsWith("silero")) assert.ok(inBodies > 0.5 * bytes, `${file}: ${inBodies} of ${bytes} weight bytes inside If branches (${main} initializers in the main graph)`);
      } finally {
        source.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function tensor(name: string, dims: number[]): Tensor {
  const elements = dims.reduce((a, b) => a * b, 1);
  return { name, dtype: "float32", dims, elements, bytes: 4 * elements, data: { kind: "embedded", proto: { offset: 0, length: 0 }, raw: undefined }, source: undefined as never };
}

function constant(out: string, attrs: Node["attrs"]): Node {
  return { name: out, opType: "Constant", domain: "", inputs: [], outputs: [out], attrs };
}

test("Constant values of every kind, subgraph bodies, each tensor once", () => {
  const shared = tensor("w", [4, 4]);
  const body: Graph = { name: "then", nodes: [constant("b0", { value: { type: "tensor", value: tensor("b", [10]) } })], inputs: [], outputs: [], initializers: new Map([["bi", tensor("bi", [3])]]), valueInfo: new Map() };
  const g: Graph = {
    name: "main",
    nodes: [
      constant("c1", { value: { type: "tensor", value: shared } }),
      constant("c2", { value_float: { type: "float", value: 0.5 } }),
      constant("c3", { value_floats: { type: "floats", value: [1, 2, 3] } }),
      constant("c4", { value_int: { type: "int", value: 7 } }),
      constant("c5", { value_ints: { type: "ints", value: [1, 2] } }),
      constant("c6", { sparse_value: { type: "sparse", value: tensor("s", [100]) } }),
      constant("c7", { value_strings: { type: "strings", value: ["a"] } }),
      { name: "if", opType: "If", domain: "", inputs: ["cond"], outputs: ["y"], attrs: { then_branch: { type: "graph", value: body }, else_branch: { type: "graph", value: body } } },
    ],
    inputs: [], outputs: [], initializers: new Map([["w", shared]]), valueInfo: new Map(),
  };
  // w: 16 (the initializer and the Constant holding the same tensor: once), 0.5: 1, [1,2,3]: 3, 7: 1, [1,2]: 2,
  // sparse: 100 dense, the body (reached twice): 10 + 3; strings are not weights.
  assert.deepEqual(weightTotals(g), { parameters: 16 + 1 + 3 + 1 + 2 + 100 + 13, bytes: 4 * 16 + 4 + 12 + 8 + 16 + 400 + 52 });
});
