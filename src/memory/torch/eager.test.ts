import { test } from "node:test";
import assert from "node:assert/strict";
import { buildModel, constTensor, type GraphSpec } from "../../shapes/testing.js";
import { inferModel } from "../../shapes/engine.js";
import { callEnds, eagerProgram, modulePath } from "./eager.js";
import { onnxTensorValues } from "../../formats/onnx/values.js";

function program(spec: GraphSpec, scopes: Record<string, string> = {}) {
  const model = buildModel(spec);
  for (const n of model.graph.nodes) if (scopes[n.name] !== undefined) n.scope = scopes[n.name]!;
  return eagerProgram(model, inferModel(model, { trustDeclared: false, tensorValues: onnxTensorValues() }));
}

const w = (name: string, cout: number, cin: number, k: number) => constTensor(name, "float32", [cout, cin, k, k], new Array(cout * cin * k * k).fill(0));

test("TorchScript names: a folded Conv allocates conv and BN outputs; ReLU runs in place; Flatten is a view", () => {
  const p = program({
    inputs: { input: { dtype: "float32", shape: [2, 3, 8, 8] } },
    initializers: [w("onnx::Conv_1", 4, 3, 3), w("head.weight", 4, 4, 1)],
    nodes: [
      { name: "/stem/conv/Conv", op: "Conv", inputs: ["input", "onnx::Conv_1"], outputs: ["c"], attrs: { pads: [1, 1, 1, 1] } },
      { name: "/stem/relu/Relu", op: "Relu", inputs: ["c"], outputs: ["r"] },
      { name: "/head/Conv", op: "Conv", inputs: ["r", "head.weight"], outputs: ["h"] },
      { name: "/Flatten", op: "Flatten", inputs: ["h"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  const bytes = 2 * 4 * 8 * 8 * 4;
  const byLayer = Object.fromEntries(p.ops.map((op) => [op.layer, op.allocs.map((a) => `${a.what}:${a.bytes}`)]));
  assert.deepEqual(byLayer["/stem/conv/Conv"], [`folded-bn:${bytes}`, `output:${bytes}`]);
  assert.deepEqual(byLayer["/stem/relu/Relu"], []);
  assert.deepEqual(byLayer["/head/Conv"], [`output:${bytes}`]);
  assert.deepEqual(byLayer["/Flatten"], []);
  assert.equal(p.freeAfter.get("h"), Infinity, "the output's storage (viewed by Flatten) is never freed");
  // eager holds the folded BN's four vectors and its counter as parameters
  assert.equal(p.weights.length, 2 + 5);
});

test("dynamo scopes: the nodes of one aten op are one op, and SiLU on a private input runs in place", () => {
  const silu = ": M/blk: Block/act: torch.nn.modules.activation.SiLU/silu: aten.silu.default";
  const p = program(
    {
      inputs: { x: { dtype: "float32", shape: [1, 4, 4, 4] } },
      initializers: [w("blk.conv.weight", 4, 4, 1)],
      nodes: [
        { name: "node_Conv_1", op: "Conv", inputs: ["x", "blk.conv.weight"], outputs: ["conv2d"] },
        { name: "node_Sigmoid_2", op: "Sigmoid", inputs: ["conv2d"], outputs: ["s"] },
        { name: "node_Mul_3", op: "Mul", inputs: ["conv2d", "s"], outputs: ["silu"] },
      ],
      outputs: ["silu"],
    },
    { node_Conv_1: ": M/blk: Block/conv: torch.nn.Conv2d/conv2d: aten.conv2d.default", node_Sigmoid_2: silu, node_Mul_3: silu },
  );
  assert.equal(p.ops.length, 2);
  assert.deepEqual(p.ops[1]!.opTypes, ["Sigmoid", "Mul"]);
  assert.deepEqual(p.ops[1]!.allocs, []);
  assert.deepEqual(modulePath({ name: "n", opType: "Mul", domain: "", inputs: [], outputs: [], attrs: {}, scope: silu }).module, ["blk", "act"]);
});

test("a tensor passed into a module lives until the module returns, not just until its last reader", () => {
  const p = program({
    inputs: { x: { dtype: "float32", shape: [1, 2, 4, 4] } },
    initializers: [w("stem.weight", 2, 2, 1), w("block.c1.weight", 2, 2, 1), w("block.c2.weight", 2, 2, 1), w("block.c3.weight", 2, 2, 1)],
    nodes: [
      { name: "/stem/Conv", op: "Conv", inputs: ["x", "stem.weight"], outputs: ["s"] },
      { name: "/block/c1/Conv", op: "Conv", inputs: ["s", "block.c1.weight"], outputs: ["a"] },
      { name: "/block/c2/Conv", op: "Conv", inputs: ["a", "block.c2.weight"], outputs: ["b"] },
      { name: "/block/c3/Conv", op: "Conv", inputs: ["b", "block.c3.weight"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(p.freeAfter.get("s"), 3, "block's input is held by the caller until block returns");
  assert.equal(p.freeAfter.get("a"), 2, "inside the block, c1's output dies after c2");
});

test("a reshape of a transposed tensor copies; LayerNorm of a permuted tensor makes a contiguous copy for the call", () => {
  const p = program({
    inputs: { x: { dtype: "float32", shape: [2, 4, 3, 5] } },
    initializers: [constTensor("shape", "int64", [3], [2, 4, 15]), constTensor("ln.weight", "float32", [4], [1, 1, 1, 1])],
    nodes: [
      { name: "/perm/Transpose", op: "Transpose", inputs: ["x"], outputs: ["t"], attrs: { perm: [0, 2, 3, 1] } },
      { name: "/ln/LayerNormalization", op: "LayerNormalization", inputs: ["t", "ln.weight"], outputs: ["n"], attrs: { axis: -1 } },
      { name: "/perm2/Transpose", op: "Transpose", inputs: ["n"], outputs: ["u"], attrs: { perm: [0, 3, 1, 2] } },
      { name: "/Reshape", op: "Reshape", inputs: ["u", "shape"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  const bytes = 2 * 4 * 3 * 5 * 4;
  const byLayer = Object.fromEntries(p.ops.map((op) => [op.layer, op.allocs.map((a) => `${a.what}:${a.bytes}`)]));
  assert.deepEqual(byLayer["/perm/Transpose"], []);
  // + the call's mean and rstd: one float per normalized row (2 x 3 x 5)
  assert.deepEqual(byLayer["/ln/LayerNormalization"], [`copy:${bytes}`, `output:${bytes}`, "workspace:120", "workspace:120"]);
  assert.deepEqual(byLayer["/perm2/Transpose"], []);
  assert.deepEqual(byLayer["/Reshape"], [`output:${bytes}`]);
});

test("an inline attention leaf is many ops (scores materialised); nn.MultiheadAttention is one fused op", () => {
  const spec = (bias: string): GraphSpec => ({
    inputs: { q: { dtype: "float32", shape: [2, 4, 8] }, k: { dtype: "float32", shape: [2, 8, 4] }, v: { dtype: "float32", shape: [2, 4, 8] } },
    initializers: [constTensor(bias, "float32", [8], new Array(8).fill(0))],
    nodes: [
      { name: "/attn/MatMul", op: "MatMul", inputs: ["q", "k"], outputs: ["s"] },
      { name: "/attn/Softmax", op: "Softmax", inputs: ["s"], outputs: ["p"], attrs: { axis: -1 } },
      { name: "/attn/MatMul_1", op: "MatMul", inputs: ["p", "v"], outputs: ["o"] },
      { name: "/attn/Add", op: "Add", inputs: ["o", bias], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  const inline = program(spec("attn.bias"));
  assert.equal(inline.ops.length, 4);
  assert.deepEqual(inline.ops.map((op) => op.allocs.length), [1, 1, 1, 1]);
  const mha = program(spec("attn.in_proj_bias"));
  assert.equal(mha.ops.length, 1);
  // the fast path's packed q/k/v projection (3x the output) and attention output live for the call only
  const bytes = 2 * 4 * 8 * 4;
  assert.deepEqual(mha.ops[0]!.allocs.map((a) => `${a.id}:${a.bytes}:${a.transient}`), [
    `/attn/Add#qkv:${3 * bytes}:true`,
    `/attn/Add#sdpa:${bytes}:true`,
    `y:${bytes}:false`,
  ]);
});

test("DenseNet layer: torch.cat dies when conv1 returns, conv1's result (bottleneck_output) lives until the layer returns", () => {
  const c = 2;
  const bn = (p: string) => ["scale", "bias", "mean", "var"].map((k) => constTensor(`${p}.${k}`, "float32", [c], [1, 1]));
  const layer = (n: number, ins: string[], withCat: boolean): GraphSpec["nodes"] => {
    const at = `/features/denseblock1/denselayer${n}`;
    const cat = withCat ? [{ name: `${at}/Concat`, op: "Concat", inputs: ins, outputs: [`cat${n}`], attrs: { axis: 1 } }] : [];
    return [
      ...cat,
      { name: `${at}/norm1/BatchNormalization`, op: "BatchNormalization", inputs: [withCat ? `cat${n}` : ins[0]!, ...["scale", "bias", "mean", "var"].map((k) => `n${n}.${k}`)], outputs: [`bn${n}`] },
      { name: `${at}/relu1/Relu`, op: "Relu", inputs: [`bn${n}`], outputs: [`r${n}`] },
      { name: `${at}/conv1/Conv`, op: "Conv", inputs: [`r${n}`, `onnx::Conv_${n}1`], outputs: [`b${n}`] },
      { name: `${at}/relu2/Relu`, op: "Relu", inputs: [`b${n}`], outputs: [`q${n}`] },
      { name: `${at}/conv2/Conv`, op: "Conv", inputs: [`q${n}`, `l${n}.conv2.weight`], outputs: [`new${n}`] },
    ];
  };
  const spec = (withCat: boolean): GraphSpec => ({
    inputs: { x: { dtype: "float32", shape: [1, c, 4, 4] } },
    initializers: [...bn("n1"), w("onnx::Conv_11", c, c, 1), w("l1.conv2.weight", c, c, 3), ...bn("n2"), w("onnx::Conv_21", c, c, 1), w("l2.conv2.weight", c, 2 * c, 3)],
    nodes: [
      { name: "/features/pool0/MaxPool", op: "MaxPool", inputs: ["x"], outputs: ["p"], attrs: { kernel_shape: [1, 1] } },
      ...layer(1, ["p"], withCat),
      ...layer(2, ["p", "new1"], true),
    ],
    outputs: ["new2"],
  });
  const p = program(spec(true));
  const index = (layer: string) => p.ops.findIndex((op) => op.layer === layer);
  const conv1 = index("/features/denseblock1/denselayer1/conv1/Conv");
  const conv2 = index("/features/denseblock1/denselayer1/conv2/Conv");
  assert.equal(p.freeAfter.get("cat1"), conv1, "concated_features is bn_function's local");
  const bottleneck = p.ops[conv1]!.allocs.find((a) => a.what === "folded-bn")!;
  assert.equal(bottleneck.transient, false);
  assert.equal(p.freeAfter.get(bottleneck.id), conv2, "bottleneck_output is held by forward until it returns");
  // The dynamo export drops the first layer's one-tensor cat; eager still copies it.
  const d = program(spec(false));
  const norm1 = d.ops.findIndex((op) => op.layer === "/features/denseblock1/denselayer1/norm1/BatchNormalization");
  const copy = d.ops[norm1]!.allocs[0]!;
  assert.equal(copy.what, "copy");
  assert.equal(copy.bytes, c * 4 * 4 * 4);
  assert.equal(d.freeAfter.get(copy.id), d.ops.findIndex((op) => op.layer === "/features/denseblock1/denselayer1/conv1/Conv"));
});

test("weights are allocated as model.to() does: children before a module's own parameters, deduplicated constants each their own", () => {
  const p = program({
    inputs: { x: { dtype: "float32", shape: [2, 3] } },
    initializers: [constTensor("enc.pos", "float32", [2, 3], [0, 0, 0, 0, 0, 0]), constTensor("enc.layer.lin.weight", "float32", [3, 3], new Array(9).fill(1))],
    nodes: [
      { name: "/enc/Add", op: "Add", inputs: ["x", "enc.pos"], outputs: ["a"] },
      { name: "/enc/layer/lin/MatMul", op: "MatMul", inputs: ["a", "enc.layer.lin.weight"], outputs: ["b"] },
      // The TorchScript exporter keeps one copy of equal initializers and names the others through Identity.
      { name: "Identity_1", op: "Identity", inputs: ["enc.layer.lin.weight"], outputs: ["enc.layer2.lin.weight"] },
      { name: "/enc/layer2/lin/MatMul", op: "MatMul", inputs: ["b", "enc.layer2.lin.weight"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  // enc.layer.lin, enc.layer2.lin (its children, in the order they are used), then enc's own pos
  assert.deepEqual(p.weights, [36, 36, 24]);
});

test("nn.MultiheadAttention whose in_proj_bias the exporter deduplicated behind an Identity is still one fused op", () => {
  const p = program({
    inputs: { q: { dtype: "float32", shape: [2, 4, 8] }, k: { dtype: "float32", shape: [2, 8, 4] }, v: { dtype: "float32", shape: [2, 4, 8] } },
    initializers: [constTensor("l0.attn.in_proj_bias", "float32", [8], new Array(8).fill(0))],
    nodes: [
      { name: "Identity_7", op: "Identity", inputs: ["l0.attn.in_proj_bias"], outputs: ["l1.attn.in_proj_bias"] },
      { name: "/l1/attn/MatMul", op: "MatMul", inputs: ["q", "k"], outputs: ["s"] },
      { name: "/l1/attn/Softmax", op: "Softmax", inputs: ["s"], outputs: ["p"], attrs: { axis: -1 } },
      { name: "/l1/attn/MatMul_1", op: "MatMul", inputs: ["p", "v"], outputs: ["o"] },
      { name: "/l1/attn/Add", op: "Add", inputs: ["o", "l1.attn.in_proj_bias"], outputs: ["y"] },
    ],
    outputs: ["y"],
  });
  assert.equal(p.ops.length, 1);
  assert.deepEqual(p.ops[0]!.allocs.filter((a) => !a.transient).map((a) => a.id), ["y"]);
});

test("MaxPool allocates its output and, for the call only, int64 indices (max_pool2d_with_indices on CUDA)", () => {
  const p = program({
    inputs: { input: { dtype: "float16", shape: [2, 4, 8, 8] } },
    nodes: [{ name: "/pool/MaxPool", op: "MaxPool", inputs: ["input"], outputs: ["y"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }],
    outputs: ["y"],
  });
  const op = p.ops.find((o) => o.layer === "/pool/MaxPool")!;
  assert.deepEqual(op.allocs.map((a) => [a.what, a.bytes, a.transient]), [["output", 2 * 4 * 4 * 4 * 2, false], ["indices", 2 * 4 * 4 * 4 * 8, true]]);
});

test("LayerNormalization holds a float mean and rstd per normalized row for the call (native_layer_norm)", () => {
  const p = program({
    inputs: { input: { dtype: "float32", shape: [2, 5, 8] } },
    initializers: [constTensor("g", "float32", [8], new Array(8).fill(1)), constTensor("b", "float32", [8], new Array(8).fill(0))],
    nodes: [{ name: "/ln/LayerNormalization", op: "LayerNormalization", inputs: ["input", "g", "b"], outputs: ["y"], attrs: { axis: -1 } }],
    outputs: ["y"],
  });
  const op = p.ops.find((o) => o.layer === "/ln/LayerNormalization")!;
  assert.deepEqual(op.allocs.map((a) => [a.id.split("#")[1] ?? a.what, a.bytes, a.transient]), [["output", 2 * 5 * 8 * 4, false], ["mean", 2 * 5 * 4, true], ["rstd", 2 * 5 * 4, true]]);
});

test("callEnds gives the end of each module call as walking forward does, for every start and depth", () => {
  // Paths from a small alphabet so calls repeat, nest and end at every depth.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const ops = Array.from({ length: 400 }, () => ({ path: Array.from({ length: Math.floor(next() * 4) }, () => "abc"[Math.floor(next() * 3)]!) }));
  const walk = (start: number, depth: number): number => {
    const module = ops[start]!.path.slice(0, depth);
    let j = start;
    while (j + 1 < ops.length && module.every((p, k) => ops[j + 1]!.path[k] === p) && ops[j + 1]!.path.length >= depth) j++;
    return j;
  };
  const callEnd = callEnds(ops);
  let runs = 0;
  ops.forEach((op, i) => {
    for (let d = 0; d <= op.path.length; d++) {
      assert.equal(callEnd(i, d), walk(i, d), `start ${i}, depth ${d}`);
      if (walk(i, d) > i) runs++;
    }
  });
  assert.ok(runs > 100, `only ${runs} calls span more than one op`);
});

test("modulePath: the module names before the op's own entry, also for odd paths", () => {
  const node = (name: string, scope?: string) => ({ name, opType: "Mul", domain: "", inputs: [], outputs: [], attrs: {}, ...(scope === undefined ? {} : { scope }) });
  // The split each path gets: every entry's name (before ':' for dynamo), empty ones dropped, the last one left out.
  const cases: [string, string | undefined, string[]][] = [
    ["x", ": m.M/a: A/b: B/mul: aten.mul", ["a", "b"]],
    ["x", ": m.M/a: A/b: B/", ["a"]],
    ["x", ": m.M/a: A/b: B/ : x", ["a"]],
    ["x", "mul: aten.mul", []],
    ["/a/b/Mul", undefined, ["a", "b"]],
    ["/a/b/", undefined, ["a"]],
    ["/Mul", undefined, []],
    ["plain", undefined, []],
  ];
  for (const [name, scope, want] of cases) {
    assert.deepEqual(modulePath(node(name, scope)).module, want, `${name} ${scope ?? ""}`);
    assert.deepEqual(modulePath(node(name, scope)).module, want, `${name} ${scope ?? ""} (second call, from the cache)`);
  }
});
