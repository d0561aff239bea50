import { test } from "node:test";
import assert from "node:assert/strict";
import type { EagerAlloc, EagerOp } from "../torch/eager.js";
import { isAliasBackward, savedFor } from "./rules.js";

function op(opTypes: string[], reads: string[], allocs: Partial<EagerAlloc>[] = []): EagerOp {
  return {
    layer: opTypes.join("+"),
    opTypes,
    path: [],
    reads,
    allocs: allocs.map((a, k) => ({ id: a.id ?? `t${k}`, bytes: a.bytes ?? 1024, transient: a.transient ?? false, what: a.what ?? "output" })),
    convs: [],
    usesCublas: false,
  };
}

test("conv with a folded BatchNorm keeps its input, the conv output (BN's input) and BN's two statistics", () => {
  const p = savedFor(op(["Conv"], ["x"], [{ id: "y#conv", what: "folded-bn", transient: true }, { id: "y" }]), ["y"], 1024, 4, 64);
  assert.deepEqual(p.storages, ["x"]);
  assert.equal(p.keepFoldedConv, true);
  assert.deepEqual(p.extra, [256, 256]);
});

test("ReLU in place saves its result; ReLU6 in place saves a clone of its input", () => {
  assert.deepEqual(savedFor(op(["Relu"], ["y"]), ["y"], 4096, 4, undefined).storages, ["y"]);
  const clip = savedFor(op(["Clip"], ["y"]), ["y"], 4096, 4, undefined);
  assert.deepEqual(clip.storages, []);
  assert.deepEqual(clip.extra, [4096]);
  const silu = savedFor(op(["Sigmoid", "Mul"], ["y"]), ["y"], 4096, 4, undefined);
  assert.deepEqual(silu.extra, [4096]);
});

test("max pooling saves its input and one int64 index per output element", () => {
  const p = savedFor(op(["MaxPool"], ["x"], [{ id: "y", bytes: 4096 }]), ["y"], 4096, 4, undefined);
  assert.deepEqual(p.storages, ["x"]);
  assert.deepEqual(p.extra, [8192]);
});

test("attention saves q, k, v and its output; add and views save nothing and pass the gradient on", () => {
  const attn = savedFor(op(["Reshape", "Mul", "MatMul", "Softmax", "MatMul"], ["q", "k", "v"], [{ id: "o" }]), ["o"], 1024, 4, undefined);
  assert.deepEqual(attn.storages, ["q", "k", "v", "o"]);
  const add = op(["Add"], ["a", "b"], [{ id: "c" }]);
  assert.deepEqual(savedFor(add, ["c"], 1024, 4, undefined).storages, []);
  assert.equal(isAliasBackward(add), true);
  assert.equal(isAliasBackward(op(["Reshape", "Transpose"], ["a"])), true);
  assert.equal(isAliasBackward(op(["MatMul"], ["a", "b"], [{ id: "c" }])), false);
});

test("an op type without a rule is named and its inputs assumed saved", () => {
  const p = savedFor(op(["Einsum"], ["a", "b"], [{ id: "c" }]), ["c"], 1024, 4, undefined);
  assert.deepEqual(p.unknown, ["Einsum"]);
  assert.deepEqual(p.storages, ["a", "b"]);
});

test("dropout in a training-mode graph: a new output and a one-byte mask per element; ratio 0 is the identity", () => {
  const d = savedFor(op(["Dropout"], ["x"]), ["x"], 4096, 4, undefined);
  assert.deepEqual(d.extra, [4096, 1024]);
  const none = op(["Dropout"], ["x"]);
  none.nodes = [{ name: "d", opType: "Dropout", domain: "", inputs: ["x"], outputs: ["y"], attrs: { ratio: { type: "float", value: 0 } } }];
  assert.deepEqual(savedFor(none, ["x"], 4096, 4, undefined).extra, []);
});

test("scaling by a constant keeps nothing of the tensor; a product of two tensors keeps both", () => {
  assert.deepEqual(savedFor(op(["Div"], ["q"], [{ id: "qs" }]), ["qs"], 1024, 4, undefined).storages, []);
  assert.deepEqual(savedFor(op(["Mul"], ["x", "y"], [{ id: "z" }]), ["z"], 1024, 4, undefined).storages, ["x", "y"]);
  // The erf-spelled GELU still keeps its input (through Erf).
  assert.deepEqual(savedFor(op(["Div", "Erf", "Add", "Mul", "Mul"], ["x"], [{ id: "g" }]), ["g"], 1024, 4, undefined).storages, ["x"]);
});

test("a matmul by a frozen weight keeps nothing of its input (mm saves self only for the weight's gradient); a conv keeps it", () => {
  const linear = op(["MatMul", "Add"], ["x"], [{ id: "y" }]);
  assert.deepEqual(savedFor(linear, ["y"], 1024, 4, undefined, true).storages, []);
  assert.deepEqual(savedFor(linear, ["y"], 1024, 4, undefined, false).storages, ["x"]);
  assert.deepEqual(savedFor(op(["Conv"], ["x"], [{ id: "y" }]), ["y"], 1024, 4, undefined, true).storages, ["x"]);
});
