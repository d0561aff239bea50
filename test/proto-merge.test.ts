/**
 * Repeated embedded messages merge, as protobuf (and so onnxruntime) reads them: a file with two `graph` fields
 * is one graph holding both fields' nodes, inputs and outputs, and a value_info given twice merges its type.
 * memlens must analyse the graph that runs, not the last field alone (issue 13).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openModel } from "../src/formats/index.js";
import { MemorySource } from "../src/formats/source.js";
import { ModelFormatError } from "../src/errors.js";
import { encodeGraph, encodeModel, encodeTensor, encodeValueInfo, ProtoWriter, readParts } from "../src/formats/onnx/writer.js";
import { finishBytes } from "../src/formats/onnx/testing.js";
import { createSession } from "../src/runtime/ort.js";
import { buildModel, constTensor } from "../src/shapes/testing.js";

/** x -> Relu -> y in the file's graph field, then a second graph field with y -> Neg -> z. */
function twoGraphFields(): Uint8Array {
  const first = buildModel({ inputs: { x: { dtype: "float32", shape: [2, 3] } }, nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"], name: "relu" }], outputs: ["y"], opset: 17 });
  const second = buildModel({ inputs: {}, nodes: [{ op: "Neg", inputs: ["y"], outputs: ["z"], name: "neg" }], outputs: ["z"], opset: 17 }).graph;
  second.outputs = [{ name: "z", type: { kind: "tensor", dtype: "float32", shape: [2, 3] } }];
  first.graph.outputs = [{ name: "y", type: { kind: "tensor", dtype: "float32", shape: [2, 3] } }];
  const extra = new ProtoWriter();
  extra.message(7, encodeGraph(second, {}));
  const head = encodeModel(first);
  const tail = finishBytes(extra);
  const bytes = new Uint8Array(head.length + tail.length);
  bytes.set(head);
  bytes.set(tail, head.length);
  return bytes;
}

test("two graph fields merge into one graph, as onnxruntime runs it", async () => {
  const bytes = twoGraphFields();
  const model = openModel(new MemorySource(bytes, "m.onnx"), "m.onnx");
  assert.deepEqual(model.graph.nodes.map((n) => n.name), ["relu", "neg"]);
  assert.deepEqual(model.graph.outputs.map((o) => o.name), ["y", "z"]);
  assert.deepEqual(model.graph.inputs.map((i) => i.name), ["x"]);
  // onnxruntime parses the same bytes into the same graph: both outputs, z = -relu(x).
  const session = await createSession(bytes, { provider: "cpu" });
  try {
    assert.deepEqual(session.outputs.map((o) => o.name), ["y", "z"]);
  } finally {
    await session.release();
  }
});

test("a tensor attribute given twice (which protobuf would merge field by field) is refused, not read as one half", () => {
  const attr = new ProtoWriter();
  attr.string(1, "value");
  attr.int(20, 4); // TENSOR
  attr.message(5, encodeTensor(constTensor("v", "float32", [2], [1, 2]), {}));
  attr.message(5, encodeTensor(constTensor("v", "float32", [2], [3, 4]), {}));
  const node = new ProtoWriter();
  node.string(2, "c");
  node.string(4, "Constant");
  node.message(5, attr);
  const graph = new ProtoWriter();
  graph.message(1, node);
  graph.message(12, encodeValueInfo({ name: "c", type: { kind: "tensor", dtype: "float32", shape: [2] } }));
  const opset = new ProtoWriter();
  opset.int(2, 17);
  const model = new ProtoWriter();
  model.int(1, 8);
  model.message(8, opset);
  model.message(7, graph);
  const bytes = new Uint8Array(Buffer.concat([...readParts(model.finish())]));
  assert.throws(() => openModel(new MemorySource(bytes, "m.onnx"), "m.onnx"), (e: unknown) => e instanceof ModelFormatError && /attribute 'value' holds its tensor twice/.test(e.message));
});
