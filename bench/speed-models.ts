/**
 * The generated models of `npm run bench:speed` (written to a temporary folder, deleted afterwards):
 * - a 100,000-node chain that goes through a shape sub-graph every fifth node;
 * - a 100,000-node residual graph (every block's input is read again at the block's end), named as the
 *   TorchScript exporter names nodes, so the eager mapping sees 20,000 nested modules;
 * - a dynamo-style Llama-3.2-1B graph (16 layers, 1.5k nodes, namespace metadata and value_info on every
 *   value as PyTorch's dynamo exporter writes them, weights in an external file that is never read);
 * - a model with 1 GiB of embedded weights.
 * They stand in for real exports where none is in the repository: their op spellings follow
 * bench/fixtures/onnx-dynamo/gpt2.onnx (SDPA decomposed into Mul/MatMul/Softmax, one Shape/Slice/Concat
 * computation per view with symbolic sizes).
 */
import type { DType } from "../src/graph/dtype.js";
import { byteSize } from "../src/graph/dtype.js";
import type { Model, Tensor } from "../src/graph/ir.js";
import { patternSource } from "../src/formats/onnx/testing.js";
import { buildModel, constTensor, type AttrSpec } from "../src/shapes/testing.js";
import { inferModel } from "../src/shapes/engine.js";
import { onnxTensorValues } from "../src/formats/onnx/values.js";

type NodeSpec = { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrSpec>; name?: string };

/** A chain of 20,000 five-node blocks (MatMul, Add, Relu, Shape, Reshape): symbolic values on every fifth node. */
export function chainGraph(blocks = 20_000): Model {
  const width = 64;
  const nodes: NodeSpec[] = [];
  let h = "x";
  for (let b = 0; b < blocks; b++) {
    nodes.push({ op: "MatMul", inputs: [h, "W"], outputs: [`mm${b}`] });
    nodes.push({ op: "Add", inputs: [`mm${b}`, "B"], outputs: [`add${b}`] });
    nodes.push({ op: "Relu", inputs: [`add${b}`], outputs: [`relu${b}`] });
    nodes.push({ op: "Shape", inputs: [`relu${b}`], outputs: [`shape${b}`] });
    nodes.push({ op: "Reshape", inputs: [`relu${b}`, `shape${b}`], outputs: [`h${b}`] });
    h = `h${b}`;
  }
  return buildModel({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq", width] } },
    initializers: [
      constTensor("W", "float32", [width, width], new Array(width * width).fill(0.5)),
      constTensor("B", "float32", [width], new Array(width).fill(0.1)),
    ],
    nodes,
    outputs: [h],
    opset: 17,
  });
}

/**
 * 20,000 pre-norm residual blocks of five nodes (LayerNormalization, MatMul, Relu, MatMul, Add back onto the
 * block's input), named `/layers.B/fc/MatMul` as TorchScript names them: module paths two deep.
 */
export function residualGraph(blocks = 20_000): Model {
  const width = 64;
  const nodes: NodeSpec[] = [];
  let h = "x";
  for (let b = 0; b < blocks; b++) {
    const at = (m: string, op: string) => `/layers.${b}${m === "" ? "" : `/${m}`}/${op}`;
    nodes.push({ op: "LayerNormalization", inputs: [h, "G", "Bn"], outputs: [`ln${b}`], attrs: { axis: -1 }, name: at("norm", "LayerNormalization") });
    nodes.push({ op: "MatMul", inputs: [`ln${b}`, "W1"], outputs: [`fc${b}`], name: at("fc", "MatMul") });
    nodes.push({ op: "Relu", inputs: [`fc${b}`], outputs: [`act${b}`], name: at("act", "Relu") });
    nodes.push({ op: "MatMul", inputs: [`act${b}`, "W2"], outputs: [`proj${b}`], name: at("proj", "MatMul") });
    nodes.push({ op: "Add", inputs: [h, `proj${b}`], outputs: [`h${b}`], name: at("", "Add") });
    h = `h${b}`;
  }
  return buildModel({
    inputs: { x: { dtype: "float32", shape: ["batch", "seq", width] } },
    initializers: [
      constTensor("G", "float32", [width], new Array(width).fill(1)),
      constTensor("Bn", "float32", [width], new Array(width).fill(0)),
      constTensor("W1", "float32", [width, 4 * width], new Array(4 * width * width).fill(0.01)),
      constTensor("W2", "float32", [4 * width, width], new Array(4 * width * width).fill(0.01)),
    ],
    nodes,
    outputs: [h],
    opset: 17,
  });
}

/** Four 256 MiB fp32 matrices, embedded as raw_data (1 GiB), in a chain of MatMuls. */
export function oneGigabyteOfWeights(): Model {
  const side = 8192;
  const bytes = side * side * 4;
  const weights: Tensor[] = [0, 1, 2, 3].map((k) => ({
    name: `W${k}`,
    dtype: "float32",
    dims: [side, side],
    elements: side * side,
    bytes,
    data: { kind: "embedded", proto: { offset: 0, length: 0 }, raw: { offset: 0, length: bytes } },
    source: patternSource(bytes, `W${k}`),
  }));
  return buildModel({
    inputs: { x: { dtype: "float32", shape: ["batch", side] } },
    initializers: weights,
    nodes: weights.map((w, k) => ({ op: "MatMul", inputs: [k === 0 ? "x" : `y${k - 1}`, w.name], outputs: [`y${k}`] })),
    outputs: ["y3"],
    opset: 17,
  });
}

/** Llama-3.2-1B's shape (config.json of meta-llama/Llama-3.2-1B): the sizes the generated graph uses. */
const LLAMA = { layers: 16, hidden: 2048, heads: 32, kvHeads: 8, headDim: 64, ffn: 8192, vocab: 128256 };
export const LLAMA_DATA_FILE = "llama-1b.onnx.data";

/**
 * A dynamo-style export of a Llama-3.2-1B-shaped LlamaForCausalLM (input_ids [batch, seq] -> logits), 1.5k
 * nodes, weights in `llama-1b.onnx.data` beside the model (never written: neither memlens nor onnx reads it).
 */
export function llamaGraph(): Model {
  const { layers, hidden, heads, kvHeads, headDim, ffn, vocab } = LLAMA;
  const nodes: (NodeSpec & { scope: string })[] = [];
  const consts: Tensor[] = [];
  const weights: Tensor[] = [];
  let offset = 0;
  let k = 0;
  const weight = (name: string, dims: number[]): string => {
    const elements = dims.reduce((a, b) => a * b, 1);
    const bytes = byteSize("float32", elements);
    weights.push({ name, dtype: "float32", dims, elements, bytes, data: { kind: "external", location: LLAMA_DATA_FILE, offset, length: bytes }, source: patternSource(0) });
    offset += bytes;
    return name;
  };
  const constant = (dtype: DType, dims: number[], values: number[]): string => {
    const name = `val_c${consts.length}`;
    consts.push(constTensor(name, dtype, dims, values));
    return name;
  };
  const i64 = (values: number[], scalar = false) => constant("int64", scalar ? [] : [values.length], values);
  const root = ": transformers.models.llama.modeling_llama.LlamaForCausalLM";
  let scope = root;
  const op = (type: string, inputs: string[], attrs?: Record<string, AttrSpec>, aten = type.toLowerCase()): string => {
    const out = `val_${k++}`;
    nodes.push({ op: type, inputs, outputs: [out], name: `node_${type}_${k}`, scope: `${scope}/${aten}: aten.${aten}.default`, ...(attrs ? { attrs } : {}) });
    return out;
  };
  const within = <T>(module: string, cls: string, body: () => T): T => {
    const outer = scope;
    scope = `${scope}/${module}: transformers.models.llama.modeling_llama.${cls}`;
    try {
      return body();
    } finally {
      scope = outer;
    }
  };
  /** A view with symbolic sizes: dynamo computes [batch, seq] from the tensor's Shape for each one. */
  const dynShape = (of: string, tail: number[]): string => {
    const shape = op("Shape", [of], { start: 0, end: 2 }, "sym_size");
    return op("Concat", [shape, i64(tail)], { axis: 0 }, "sym_size");
  };
  const rmsNorm = (x: string, name: string): string => within(`model.${name}`, "LlamaRMSNorm", () => {
    const sq = op("Pow", [x, constant("float32", [], [2])]);
    const mean = op("ReduceMean", [sq], { axes: [-1], keepdims: 1 }, "mean");
    const eps = op("Add", [mean, constant("float32", [], [1e-5])]);
    const r = op("Reciprocal", [op("Sqrt", [eps])], undefined, "rsqrt");
    return op("Mul", [weight(`model.${name}.weight`, [hidden]), op("Mul", [x, r])]);
  });
  const linear = (x: string, name: string, inF: number, outF: number): string =>
    op("MatMul", [x, weight(`${name}.weight`, [inF, outF])], undefined, "linear");
  const rope = (x: string, cos: string, sin: string): string => {
    const x1 = op("Slice", [x, i64([0]), i64([headDim / 2]), i64([3])]);
    const x2 = op("Slice", [x, i64([headDim / 2]), i64([headDim]), i64([3])]);
    const rotated = op("Concat", [op("Neg", [x2]), x1], { axis: -1 }, "cat");
    return op("Add", [op("Mul", [x, cos]), op("Mul", [rotated, sin])]);
  };
  /** repeat_kv: [b, kv, s, d] -> [b, kv, rep, s, d] (expand) -> [b, heads, s, d] (view), sizes from the tensor's Shape. */
  const repeatKv = (x: string): string => {
    const part = (start: number, end: number) => op("Shape", [x], { start, end }, "sym_size");
    const u = op("Unsqueeze", [x, i64([2])]);
    const e = op("Expand", [u, op("Concat", [part(0, 2), i64([heads / kvHeads]), part(2, 4)], { axis: 0 }, "sym_size")]);
    return op("Reshape", [e, op("Concat", [part(0, 1), i64([heads]), part(2, 4)], { axis: 0 }, "sym_size")], undefined, "view");
  };

  let h = within("model", "LlamaModel", () => within("model.embed_tokens", "Embedding", () => op("Gather", [weight("model.embed_tokens.weight", [vocab, hidden]), "input_ids"], undefined, "embedding")));
  const [cos, sin, mask] = within("model", "LlamaModel", () => {
    const seq = op("Gather", [op("Shape", ["input_ids"]), i64([1], true)], { axis: 0 }, "sym_size");
    const pos = op("Range", [i64([0], true), seq, i64([1], true)], undefined, "arange");
    const rope = within("model.rotary_emb", "LlamaRotaryEmbedding", () => {
      const p = op("Unsqueeze", [op("Cast", [op("Unsqueeze", [pos, i64([0])])], { to: 1 }, "_to_copy"), i64([1])]);
      const invFreq = constant("float32", [1, headDim / 2, 1], Array.from({ length: headDim / 2 }, (_, i) => 500000 ** (-2 * i / headDim)));
      const freqs = op("Transpose", [op("MatMul", [invFreq, p])], { perm: [0, 2, 1] });
      const emb = op("Concat", [freqs, freqs], { axis: -1 }, "cat");
      const one = constant("float32", [], [1]);
      return [op("Mul", [op("Cos", [emb]), one]), op("Mul", [op("Sin", [emb]), one])] as const;
    });
    const allowed = op("LessOrEqual", [op("Unsqueeze", [pos, i64([0])]), op("Unsqueeze", [pos, i64([1])])], undefined, "le");
    const m = op("Where", [allowed, constant("float32", [], [0]), constant("float32", [], [-3.4e38])]);
    return [rope[0], rope[1], op("Unsqueeze", [m, i64([0, 1])])] as const;
  });
  for (let l = 0; l < layers; l++) {
    h = within("model", "LlamaModel", () => within(`model.layers.${l}`, "LlamaDecoderLayer", () => {
      const p = `model.layers.${l}`;
      const x = rmsNorm(h, `layers.${l}.input_layernorm`);
      const attn = within(`${p}.self_attn`, "LlamaAttention", () => {
        // apply_rotary_pos_emb unsqueezes cos and sin in every layer; the mask is sliced to the keys' length.
        const cos1 = op("Unsqueeze", [cos, i64([1])]);
        const sin1 = op("Unsqueeze", [sin, i64([1])]);
        const heads4 = (t: string) => op("Transpose", [op("Reshape", [t, dynShape(t, [-1, headDim])], undefined, "view")], { perm: [0, 2, 1, 3] });
        const q = rope(heads4(linear(x, `${p}.self_attn.q_proj`, hidden, heads * headDim)), cos1, sin1);
        const kk = repeatKv(rope(heads4(linear(x, `${p}.self_attn.k_proj`, hidden, kvHeads * headDim)), cos1, sin1));
        const v = repeatKv(heads4(linear(x, `${p}.self_attn.v_proj`, hidden, kvHeads * headDim)));
        // scaled_dot_product_attention as dynamo decomposes it: q and k^T each scaled by sqrt(1/sqrt(d)).
        const scale = constant("float32", [], [Math.sqrt(1 / Math.sqrt(headDim))]);
        const keys = op("Slice", [op("Shape", [kk], undefined, "sym_size"), i64([-2]), i64([-1])], undefined, "sym_size");
        const layerMask = op("Slice", [mask, i64([0]), keys, i64([3])], undefined, "slice");
        // k.transpose(-2, -1) as dynamo spells it in the decomposed SDPA (gpt2.onnx): through a 3-D view.
        const sdpa = "scaled_dot_product_attention";
        const kShape = op("Shape", [kk], undefined, sdpa);
        const dim = (a: number, b: number) => op("Slice", [kShape, i64([a]), i64([b])], undefined, sdpa);
        const [d0, d1, d2] = [dim(0, 1), dim(1, 2), dim(2, 3)];
        const flat = op("Reshape", [kk, op("Concat", [i64([-1]), d2, i64([headDim])], { axis: 0 }, sdpa)], undefined, sdpa);
        const kt = op("Reshape", [op("Transpose", [flat], { perm: [0, 2, 1] }, sdpa), op("Concat", [d0, d1, i64([headDim]), d2], { axis: 0 }, sdpa)], undefined, sdpa);
        const scores = op("MatMul", [op("Mul", [q, scale]), op("Mul", [kt, scale])], undefined, "scaled_dot_product_attention");
        const probs = op("Softmax", [op("Add", [scores, layerMask])], { axis: -1 }, "scaled_dot_product_attention");
        const ctx = op("Transpose", [op("MatMul", [probs, v])], { perm: [0, 2, 1, 3] });
        const merged = op("Reshape", [ctx, dynShape(ctx, [hidden])], undefined, "view");
        return linear(merged, `${p}.self_attn.o_proj`, heads * headDim, hidden);
      });
      const h1 = op("Add", [h, attn]);
      const y = rmsNorm(h1, `layers.${l}.post_attention_layernorm`);
      const mlp = within(`${p}.mlp`, "LlamaMLP", () => {
        const gate = linear(y, `${p}.mlp.gate_proj`, hidden, ffn);
        const act = within(`${p}.mlp.act_fn`, "SiLU", () => op("Mul", [gate, op("Sigmoid", [gate])], undefined, "silu"));
        return linear(op("Mul", [act, linear(y, `${p}.mlp.up_proj`, hidden, ffn)]), `${p}.mlp.down_proj`, ffn, hidden);
      });
      return op("Add", [h1, mlp]);
    }));
  }
  const normed = within("model", "LlamaModel", () => rmsNorm(h, "norm"));
  // tie_word_embeddings: lm_head reads the embedding matrix, transposed.
  const logits = within("lm_head", "Linear", () => op("MatMul", [normed, op("Transpose", ["model.embed_tokens.weight"], { perm: [1, 0] })], undefined, "linear"));
  const model = buildModel({
    inputs: { input_ids: { dtype: "int64", shape: ["batch", "seq"] } },
    initializers: [...consts, ...weights],
    nodes,
    outputs: [logits],
    // Opset 17 and IR 8 (dynamo writes 18+ and 10): the newest Debian's python3-onnx 1.12 infers.
    opset: 17,
  });
  model.producer = "memlens bench (dynamo-style)";
  model.irVersion = 8;
  nodes.forEach((n, i) => (model.graph.nodes[i]!.scope = n.scope));
  // value_info for every intermediate, as the dynamo exporter writes it.
  const inferred = inferModel(model, { tensorValues: onnxTensorValues() });
  for (const n of model.graph.nodes) {
    for (const o of n.outputs) {
      const info = inferred.values.get(o);
      if (info?.shape && info.dtype) model.graph.valueInfo.set(o, { name: o, type: { kind: "tensor", dtype: info.dtype, shape: info.shape } });
    }
  }
  const out = model.graph.valueInfo.get(logits);
  model.graph.outputs = [{ name: logits, type: out?.type ?? { kind: "unknown" } }];
  return model;
}
