import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Attr, Graph, Model, Tensor, ValueType } from "../../graph/ir.js";
import { dimToString } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { loadModelFile } from "../load-node.js";
import { MemorySource } from "../source.js";
import { decodeModel } from "./decode.js";
import { readTensorBytes, readTensorValues } from "./values.js";
import { encodeModel, encodeModelParts, ProtoWriter, tensorFromBytes } from "./writer.js";
import { FIXTURES } from "../../../bench/shared.js";

const FASHION = new URL("../../../../models/fashion-mobilenetv2/model.onnx", import.meta.url).pathname;

/** A model as plain data: every node, attribute, shape and initializer (bytes as a hash or external reference). */
function describeModel(m: Model): unknown {
  return {
    irVersion: m.irVersion,
    producer: m.producer,
    opsets: m.opsets,
    metadata: m.metadata,
    graph: describeGraph(m.graph),
  };
}

function describeGraph(g: Graph): unknown {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({
      name: n.name,
      op: n.opType,
      domain: n.domain,
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, describeAttr(a)])),
    })),
    inputs: g.inputs.map((v) => [v.name, describeType(v.type)]),
    outputs: g.outputs.map((v) => [v.name, describeType(v.type)]),
    valueInfo: [...g.valueInfo.values()].map((v) => [v.name, describeType(v.type)]),
    initializers: [...g.initializers.values()].map(describeTensor),
  };
}

function describeAttr(a: Attr): unknown {
  switch (a.type) {
    case "tensor":
      return { tensor: describeTensor(a.value) };
    case "tensors":
      return { tensors: a.value.map(describeTensor) };
    case "graph":
      return { graph: describeGraph(a.value) };
    case "graphs":
      return { graphs: a.value.map(describeGraph) };
    case "type":
      return { type: describeType(a.value) };
    default:
      return a;
  }
}

function describeType(t: ValueType): unknown {
  switch (t.kind) {
    case "tensor":
    case "sparse":
      return { kind: t.kind, dtype: t.dtype, shape: t.shape?.map(dimToString) };
    case "sequence":
    case "optional":
      return { kind: t.kind, elem: describeType(t.elem) };
    default:
      return t;
  }
}

function describeTensor(t: Tensor): unknown {
  const base = { name: t.name, dtype: t.dtype, dims: t.dims, bytes: t.bytes };
  if (t.data.kind === "external") return { ...base, location: t.data.location, offset: t.data.offset, length: t.data.length };
  const payload = t.dtype === "string" ? JSON.stringify(readTensorValues(t)) : readTensorBytes(t);
  return { ...base, sha256: createHash("sha256").update(payload).digest("hex") };
}

function roundTrip(m: Model): Model {
  return decodeModel(new MemorySource(encodeModel(m)), m.file);
}

const fixtureFiles = ["onnx-legacy", "onnx-dynamo"].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith(".onnx")).map((f) => join(FIXTURES, dir, f)),
);

test("fixtures are present (the round-trip test below must not pass by finding nothing)", () => {
  assert.ok(fixtureFiles.length >= 14, `found ${fixtureFiles.length} fixtures`);
});

for (const file of fixtureFiles) {
  test(`round trip keeps every node, shape and initializer: ${file.split("/").slice(-2).join("/")}`, () => {
    const { model, source } = loadModelFile(file);
    try {
      const again = roundTrip(model);
      assert.deepEqual(describeModel(again), describeModel(model));
      // External weights stay external: nothing was inlined.
      for (const t of again.graph.initializers.values()) {
        const before = model.graph.initializers.get(t.name)!;
        assert.equal(t.data.kind, before.data.kind, t.name);
      }
      // A second pass is a fixed point, byte for byte.
      assert.deepEqual(encodeModel(again), encodeModel(model));
    } finally {
      source.close();
    }
  });
}

test("round trip of the fashion model keeps weight bytes and the file size", () => {
  const { model, source } = loadModelFile(FASHION);
  try {
    const bytes = encodeModel(model);
    const again = decodeModel(new MemorySource(bytes), model.file);
    assert.deepEqual(describeModel(again), describeModel(model));
    assert.ok(Math.abs(bytes.length - source.size) < source.size * 0.01, `${bytes.length} vs ${source.size}`);
  } finally {
    source.close();
  }
});

test("encoding reads weights lazily: parts reference the source, nothing is read until written", () => {
  const { model, source } = loadModelFile(FASHION);
  try {
    let reads = 0;
    const counting = { size: source.size, name: source.name, read: (o: number, l: number) => (reads++, source.read(o, l)) };
    for (const t of model.graph.initializers.values()) t.source = counting;
    const { parts, size } = encodeModelParts(model);
    assert.equal(reads, 0);
    assert.ok(parts.some((p) => !(p instanceof Uint8Array)));
    assert.ok(size > 8_000_000);
  } finally {
    source.close();
  }
});

test("varints: negative int64 takes ten bytes and decodes back", () => {
  const w = new ProtoWriter();
  w.int(1, -1);
  w.int(2, 2 ** 40 + 3);
  w.int(3, -(2 ** 50));
  const bytes = new Uint8Array(w.size);
  let at = 0;
  for (const p of w.finish()) {
    assert.ok(p instanceof Uint8Array);
    bytes.set(p, at);
    at += p.length;
  }
  assert.equal(bytes.length, 1 + 10 + 1 + 6 + 1 + 10);
  const t = tensorFromBytes("x", "int64", [3], new Uint8Array(24));
  assert.deepEqual(readTensorValues(t), [0, 0, 0]);
});

test("a model built in memory (subgraph, every attribute kind, symbolic dims) survives the round trip", () => {
  const w = tensorFromBytes("w", "float32", [2, 2], new Uint8Array(new Float32Array([1, -2, 3.5, 4]).buffer));
  const body: Graph = {
    name: "body",
    nodes: [{ name: "inner", opType: "Identity", domain: "", inputs: ["x"], outputs: ["y_then"], attrs: {} }],
    inputs: [],
    outputs: [{ name: "y_then", type: { kind: "tensor", dtype: "float32", shape: [parseDim("batch"), 2] } }],
    initializers: new Map(),
    valueInfo: new Map(),
  };
  const model: Model = {
    format: "onnx",
    file: "mem.onnx",
    irVersion: 8,
    producer: "memlens 0.1",
    opsets: { "": 17, "com.microsoft": 1 },
    metadata: { author: "test", "ünïcode": "✓" },
    warnings: [],
    graph: {
      name: "g",
      nodes: [
        {
          name: "n1",
          opType: "Custom",
          domain: "com.microsoft",
          inputs: ["x", "", "w"],
          outputs: ["y"],
          attrs: {
            f: { type: "float", value: 0.5 },
            i: { type: "int", value: -7 },
            s: { type: "string", value: "hello" },
            t: { type: "tensor", value: w },
            fs: { type: "floats", value: [1.5, -2] },
            is: { type: "ints", value: [0, -1, 2 ** 40] },
            ss: { type: "strings", value: ["a", ""] },
            ts: { type: "tensors", value: [w] },
            g: { type: "graph", value: body },
            gs: { type: "graphs", value: [body, body] },
            tp: { type: "type", value: { kind: "sequence", elem: { kind: "tensor", dtype: "int64", shape: [3] } } },
          },
        },
      ],
      inputs: [{ name: "x", type: { kind: "tensor", dtype: "float32", shape: [parseDim("batch"), parseDim("seq*2+1")] } }],
      outputs: [{ name: "y", type: { kind: "optional", elem: { kind: "tensor", dtype: "float16", shape: undefined } } }],
      initializers: new Map([["w", w]]),
      valueInfo: new Map([["z", { name: "z", type: { kind: "tensor", dtype: undefined, shape: [] } }]]),
    },
  };
  assert.deepEqual(describeModel(roundTrip(model)), describeModel(model));
});

test("onnxruntime's outputs on the fashion model are unchanged to the bit after a round trip", async () => {
  const { createSession } = await import("../../runtime/ort.js");
  const { model, source } = loadModelFile(FASHION);
  try {
    const x = new Float32Array(8 * 3 * 32 * 32);
    let s = 17;
    for (let i = 0; i < x.length; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      x[i] = (s / 2 ** 31) * 4 - 2;
    }
    const outputs: Float32Array[] = [];
    for (const m of [FASHION, encodeModel(model)]) {
      const session = await createSession(m, { provider: "cpu", intraOpThreads: 1 });
      try {
        const out = await session.run({ input: { type: "float32", dims: [8, 3, 32, 32], data: x } });
        outputs.push(out["logits"]!.data as Float32Array);
      } finally {
        await session.release();
      }
    }
    assert.equal(outputs[0]!.length, 80);
    const bits = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    assert.deepEqual(bits(outputs[1]!), bits(outputs[0]!));
  } finally {
    source.close();
  }
});

test("node module paths are written back as namespace metadata only when asked (scopes: true)", () => {
  const model = loadModelFile(join(FIXTURES, "onnx-dynamo", "gpt2.onnx")).model;
  const scoped = model.graph.nodes.filter((n) => n.scope !== undefined).length;
  assert.ok(scoped > 600, `gpt2 nodes with a namespace: ${scoped}`);
  const again = (opts: { scopes?: boolean }) => decodeModel(new MemorySource(encodeModel(model, opts), "x.onnx"), "x.onnx").graph.nodes;
  assert.deepEqual(again({ scopes: true }).map((n) => n.scope), model.graph.nodes.map((n) => n.scope));
  assert.equal(again({}).filter((n) => n.scope !== undefined).length, 0);
});
