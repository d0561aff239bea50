/**
 * What eager PyTorch really allocates for a graph exported from it. ONNX spells one aten op as several
 * nodes (SiLU = Sigmoid + Mul, GELU = Div/Erf/Add/Mul/Mul, Linear on 3-D input = MatMul + Add), folds
 * BatchNorm into the Conv before it, and has no views or in-place ops. This maps the graph back:
 * - nodes of one aten op (dynamo `namespace` metadata) or of one leaf module (TorchScript node names) are one op;
 * - view ops (Reshape, Transpose, Slice, ...) allocate nothing, unless they must copy a non-contiguous input;
 * - activations whose input nobody else reads run in place (torchvision builds them with inplace=True);
 * - a Conv with BatchNorm folded in allocates the conv output and the BN output, then frees the first;
 * - a tensor lives until its last reader has run and, beyond that, until the module it was passed into returns
 *   (the caller's Python variable holds it: "input = module(input)" rebinds only after the call).
 */
import { graphWeights } from "../../graph/weights.js";
import type { DType } from "../../graph/dtype.js";
import { byteSize, isFloat } from "../../graph/dtype.js";
import type { Model, Node } from "../../graph/ir.js";
import type { InferenceResult } from "../../shapes/engine.js";
import type { TensorInfo } from "../../shapes/types.js";
import { elementCount } from "../../graph/element-count.js";

/** Ops that return a view of their first input in eager PyTorch (no allocation when the input is contiguous). */
const VIEW_OPS = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Transpose", "Slice", "Split", "Expand", "Gather"]);
/** Views that keep a contiguous input contiguous; the others leave strides a later reshape must copy. */
const CONTIGUOUS_VIEWS = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"]);
/** Kernels of their own: a module that runs two of them is not one aten op. */
const HEAVY_OPS = new Set(["MatMul", "Gemm", "Conv", "ConvTranspose", "Softmax", "LayerNormalization", "BatchNormalization"]);
/** Views that must copy a strided (permuted) input. */
const RESHAPES = new Set(["Reshape", "Flatten"]);
/** Kernels that make a strided input contiguous first. */
const NEEDS_CONTIGUOUS = new Set(["LayerNormalization", "Softmax", "Conv"]);
/** Activations torchvision builds with inplace=True (ReLU, ReLU6, SiLU, Hardswish, ...), as ONNX spells them. */
const INPLACE_ACTIVATION_OPS = new Set(["Relu", "Clip", "LeakyRelu", "HardSwish", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "Mul"]);
/** Activations that a lone Sigmoid/HardSigmoid/Mul must combine into to count as in place (x * sigmoid(x)). */
const SINGLE_INPLACE_OPS = new Set(["Relu", "Clip", "LeakyRelu", "HardSwish", "Elu", "Selu", "Celu"]);

export interface EagerAlloc {
  /** Storage id (a tensor name, or `name#what` for a scratch buffer). */
  id: string;
  bytes: number;
  /** Freed again before the op returns (the conv output under a folded BatchNorm, a workspace). */
  transient: boolean;
  what: "output" | "folded-bn" | "copy" | "workspace" | "indices";
}

export interface EagerOp {
  /** The ONNX node the user sees for this op (its last node). */
  layer: string;
  opTypes: string[];
  /** Module path, outermost first (from dynamo `namespace` or TorchScript node names). */
  path: string[];
  /** Storages read from outside the op. */
  reads: string[];
  allocs: EagerAlloc[];
  /** Conv nodes of the op, for the cuDNN workspace model. */
  convs: Node[];
  /** Uses cuBLAS (MatMul, Gemm, Linear): the process holds a cuBLAS workspace. */
  usesCublas: boolean;
  /** The ONNX nodes of the op (the training model reads their parameters and op types). */
  nodes?: Node[];
}

export interface EagerProgram {
  ops: EagerOp[];
  /** Storage id -> index of the op after which it is freed (Infinity: a graph output, never freed here). */
  freeAfter: Map<string, number>;
  /** Bytes of each graph input (allocated before the forward, not part of it). */
  inputBytes: number;
  outputBytes: number;
  /** Parameter tensors as eager holds them (folded BatchNorms restored), each one allocation. */
  weights: number[];
  /** The module's parameter count (buffers excluded) and the BatchNorms the exporter had folded into convs. */
  parameters?: { elements: number; foldedBatchNorms: number };
  warnings: string[];
}

export interface EagerOptions {
  /** Cast float tensors (weights and activations) to this type, as model.to(dtype) does. */
  dtype?: DType;
  /** A training forward: nn.MultiheadAttention's fused fast path is inference-only (grad mode off). */
  training?: boolean;
}

export function eagerProgram(model: Model, inference: InferenceResult, opts: EagerOptions = {}): EagerProgram {
  const g = model.graph;
  const warnings: string[] = [];
  const nodes = inference.nodes.map((r) => r.node);
  const info = inference.values;
  const bytesOf = (name: string): number | undefined => tensorBytes(info.get(name), opts.dtype);

  // Host-side values: weights, constants and shape arithmetic never touch the device during a forward.
  const host = new Set<string>(g.initializers.keys());
  for (const n of nodes) {
    const outsKnown = n.outputs.every((o) => o === "" || info.get(o)?.value !== undefined);
    if (n.opType === "Constant" || n.opType === "Shape" || n.opType === "Size" || n.inputs.every((i) => i === "" || host.has(i)) || outsKnown) {
      for (const o of n.outputs) if (o !== "") host.add(o);
    }
  }
  const device = nodes.filter((n) => !n.outputs.every((o) => o === "" || host.has(o)));

  // Group nodes into eager ops.
  const paths = device.map((n) => modulePath(n));
  const leafModules = leafPaths(paths.map((p) => p.module));
  // A TorchScript leaf module is one aten op when it is an activation, a norm or a Linear (MatMul + Add); a leaf
  // that runs several heavy kernels (attention written inline: projections, scores, softmax) is a function of
  // many ops, each allocating its own result.
  const heavyCount = new Map<string, number>();
  device.forEach((n, i) => {
    if (!HEAVY_OPS.has(n.opType)) return;
    const k = moduleKey(paths[i]!.module);
    heavyCount.set(k, (heavyCount.get(k) ?? 0) + 1);
  });
  // nn.MultiheadAttention (it owns `in_proj_weight`/`in_proj_bias`) runs as one fused op in inference: the
  // native fast path with fused SDPA, which never materialises the attention scores the export spells out.
  // (Host values: the TorchScript exporter names deduplicated initializers through Identity nodes.)
  const fusedAttention = new Set<string>();
  device.forEach((n, i) => {
    if (!opts.training && n.inputs.some((x) => (x.endsWith(".in_proj_weight") || x.endsWith(".in_proj_bias")) && host.has(x))) fusedAttention.add(moduleKey(paths[i]!.module));
  });
  const oneOp = (module: string[]): boolean => {
    const k = moduleKey(module);
    return module.length > 0 && leafModules.has(k) && ((heavyCount.get(k) ?? 0) <= 1 || fusedAttention.has(k));
  };
  const groups: OpGroup[] = [];
  let lastKey: string | undefined;
  device.forEach((n, i) => {
    const p = paths[i]!;
    const key = p.op ?? (oneOp(p.module) ? `module:${moduleKey(p.module)}` : undefined);
    const last = groups[groups.length - 1];
    if (key !== undefined && key === lastKey && last) {
      last.nodes.push(n);
      last.outputs.push(...n.outputs);
    } else groups.push({ nodes: [n], path: p.module, outputs: n.outputs.slice() });
    lastKey = key;
  });

  // Storage: which allocation a value lives in (views and in-place ops share their input's).
  const storageOf = new Map<string, string>();
  const nonContiguous = new Set<string>();
  const graphInputs = new Set(g.inputs.map((v) => v.name).filter((n) => !host.has(n)));
  for (const name of graphInputs) storageOf.set(name, name);
  const resolve = (v: string): string => storageOf.get(v) ?? v;

  // Count readers per value first (the in-place rule needs them).
  const valueReaders = new Map<string, number>();
  const externalInputs = groups.map((grp) => outsideInputs(grp, host));
  for (const ins of externalInputs) for (const i of ins) valueReaders.set(i, (valueReaders.get(i) ?? 0) + 1);
  const graphOutputs = new Set(g.outputs.map((v) => v.name));
  for (const o of graphOutputs) valueReaders.set(o, (valueReaders.get(o) ?? 0) + 1);

  const ops: EagerOp[] = [];
  for (let k = 0; k < groups.length; k++) {
    const grp = groups[k]!;
    const externalIns = externalInputs[k]!;
    const outs = grp.outputs.filter((o) => o !== "" && !host.has(o) && ((valueReaders.get(o) ?? 0) > 0));
    const opTypes = grp.nodes.map((n) => n.opType);
    const last = grp.nodes[grp.nodes.length - 1]!;
    const op: EagerOp = {
      layer: last.name || last.outputs[0] || last.opType,
      opTypes,
      path: grp.path,
      reads: distinct(externalIns.map(resolve)),
      allocs: [],
      convs: grp.nodes.filter((n) => n.opType === "Conv"),
      usesCublas: opTypes.some((t) => t === "MatMul" || t === "Gemm"),
      nodes: grp.nodes,
    };
    const first = grp.nodes[0]!;
    const dataIn = first.inputs[0] ?? "";
    const single = grp.nodes.length === 1;
    if (single && VIEW_OPS.has(first.opType) && dataIn !== "" && !host.has(dataIn) && isView(first, info)) {
      const inputStrided = nonContiguous.has(dataIn);
      // x.transpose(...).reshape(...) must copy: a reshape can not describe the strides a permutation left.
      if (!(RESHAPES.has(first.opType) && inputStrided)) {
        const strided = inputStrided || (!CONTIGUOUS_VIEWS.has(first.opType) && !leadingAxisView(first, info));
        for (const o of outs) {
          storageOf.set(o, resolve(dataIn));
          if (strided) nonContiguous.add(o);
        }
        ops.push(op);
        continue;
      }
    }
    if (inPlaceActivation(opTypes, externalIns, graphInputs, valueReaders) && outs.length === 1) {
      storageOf.set(outs[0]!, resolve(externalIns[0]!));
      if (nonContiguous.has(externalIns[0]!)) nonContiguous.add(outs[0]!);
      ops.push(op);
      continue;
    }
    // layer_norm, softmax and convolution call .contiguous() on a strided input: a copy for the call's duration.
    if (single && NEEDS_CONTIGUOUS.has(first.opType) && nonContiguous.has(dataIn)) {
      const b = bytesOf(dataIn);
      if (b !== undefined) op.allocs.push({ id: `${dataIn}#contiguous`, bytes: b, transient: true, what: "copy" });
    }
    const foldedBn = first.opType === "Conv" && single && foldedBatchNorm(first, g.initializers);
    // The fast path (aten/src/ATen/native/transformers/attention.cpp, native_multi_head_attention) projects
    // q, k and v in one linear ([B, T, 3E]), runs scaled_dot_product_attention on views of it ([B, T, E] out)
    // and projects that: the first two live until the call returns.
    // (One group for the whole module, as TorchScript names give it; dynamo exports spell the call out aten op
    // by aten op, the q/k/v projection among them.)
    const torchScript = grp.nodes.every((n) => n.scope === undefined);
    const attention = torchScript && grp.nodes.length > 1 && fusedAttention.has(moduleKey(grp.path)) && outs.length === 1;
    const attnBytes = attention ? bytesOf(outs[0]!) : undefined;
    if (attnBytes !== undefined) {
      op.allocs.push({ id: `${op.layer}#qkv`, bytes: 3 * attnBytes, transient: true, what: "workspace" });
      op.allocs.push({ id: `${op.layer}#sdpa`, bytes: attnBytes, transient: true, what: "workspace" });
    }
    for (const o of outs) {
      const b = bytesOf(o);
      if (b === undefined) {
        warnings.push(`size of '${o}' (${last.opType} '${op.layer}') unknown: counted as 0 bytes`);
        continue;
      }
      if (foldedBn) op.allocs.push({ id: `${o}#conv`, bytes: b, transient: true, what: "folded-bn" });
      op.allocs.push({ id: o, bytes: b, transient: false, what: "output" });
      storageOf.set(o, o);
      // On CUDA, max_pool1d/2d/3d run max_poolNd_with_indices whatever the grad mode (aten/src/ATen/native/
      // Pooling.cpp) and drop the int64 argmax indices, one per output element, when the call returns.
      if (single && first.opType === "MaxPool" && outs.length === 1) {
        const indices = tensorBytes(info.get(o) && { ...info.get(o)!, dtype: "int64" }, undefined);
        if (indices !== undefined) op.allocs.push({ id: `${o}#indices`, bytes: indices, transient: true, what: "indices" });
      }
      // native_layer_norm on CUDA returns (out, mean, rstd): one float per normalized row each (the accumulate
      // type, float for fp16/bf16/fp32 inputs), dropped by F.layer_norm when the call returns.
      if (single && first.opType === "LayerNormalization" && o === outs[0]) {
        const rows = layerNormRows(first, info.get(dataIn));
        if (rows !== undefined) {
          op.allocs.push({ id: `${o}#mean`, bytes: rows * 4, transient: true, what: "workspace" });
          op.allocs.push({ id: `${o}#rstd`, bytes: rows * 4, transient: true, what: "workspace" });
        }
      }
    }
    ops.push(op);
  }

  // Lifetimes: last reading op, extended to the end of the module the tensor was passed into.
  const producedAt = new Map<string, number>();
  ops.forEach((op, i) => op.allocs.forEach((a) => !a.transient && producedAt.set(a.id, i)));
  // One call of a module is a contiguous run of ops under its path (a module called twice, like ResNet's
  // shared `relu`, makes two runs); a tensor passed into the call lives until the run ends.
  const callEnd = callEnds(ops);
  const freeAfter = new Map<string, number>();
  const keep = new Set([...graphOutputs].map(resolve));
  const leafOps = leafPaths(ops.map((op) => op.path));
  const isLeaf = new Map<string[], boolean>();
  const leaf = (path: string[]): boolean => {
    let v = isLeaf.get(path);
    if (v === undefined) isLeaf.set(path, (v = leafOps.has(moduleKey(path))));
    return v;
  };
  for (const [id, made] of producedAt) {
    if (keep.has(id)) {
      freeAfter.set(id, Number.POSITIVE_INFINITY);
      continue;
    }
    // Made by a module's own forward (not one of its children): a Python local of that forward holds it
    // until the call returns (densenet's `concated_features`, a block's `x = x + input`). The model's own
    // forward is left out: it rebinds `x` layer after layer.
    const path = ops[made]!.path;
    const local = path.length > 0 && !leaf(path);
    freeAfter.set(id, local ? callEnd(made, path.length) : made);
  }
  ops.forEach((op, i) => {
    for (const r of op.reads) {
      const made = producedAt.get(r);
      if (made === undefined || keep.has(r)) continue;
      const producerPath = ops[made]!.path;
      let common = 0;
      while (common < producerPath.length && common < op.path.length && producerPath[common] === op.path[common]) common++;
      const until = op.path.length > common ? callEnd(i, common + 1) : i;
      freeAfter.set(r, Math.max(freeAfter.get(r) ?? made, until));
    }
  });

  denseLayerLifetimes(ops, freeAfter, callEnd);

  let inputBytes = 0;
  for (const name of graphInputs) inputBytes += bytesOf(name) ?? 0;
  let outputBytes = 0;
  for (const name of graphOutputs) outputBytes += bytesOf(name) ?? 0;
  const eager = eagerWeights(model, nodes, opts.dtype);
  return { ops, freeAfter, inputBytes, outputBytes, weights: eager.bytes, parameters: { elements: eager.elements, foldedBatchNorms: eager.folded }, warnings };
}

/** The values of `xs` in first-seen order, each once (a set only for long lists). */
function distinct(xs: string[]): string[] {
  if (xs.length > 16) return [...new Set(xs)];
  const out: string[] = [];
  for (const x of xs) if (!out.includes(x)) out.push(x);
  return out;
}

/** Consecutive nodes that eager PyTorch runs as one op, with their outputs in node order. */
interface OpGroup {
  nodes: Node[];
  path: string[];
  outputs: string[];
}

/** Device values a group reads from outside itself, each once, in first-read order. */
function outsideInputs(grp: OpGroup, host: ReadonlySet<string>): string[] {
  const out: string[] = [];
  // Most groups are one node with a few inputs: arrays beat sets until groups get long (attention written inline).
  let reads = 0;
  for (const n of grp.nodes) reads += n.inputs.length;
  const large = grp.outputs.length + reads > 32;
  const inside = large ? new Set(grp.outputs) : undefined;
  const seen = large ? new Set<string>() : undefined;
  for (const n of grp.nodes) {
    for (const i of n.inputs) {
      if (i === "" || host.has(i) || (inside ? inside.has(i) : grp.outputs.includes(i))) continue;
      if (seen ? seen.has(i) : out.includes(i)) continue;
      seen?.add(i);
      out.push(i);
    }
  }
  return out;
}

/** A torchvision DenseNet layer's module name: `denselayer3` (TorchScript) or `features.denseblock1.denselayer3` (dynamo). */
const DENSE_LAYER = /(^|\.)denselayer\d+$/;

/**
 * Python lifetimes inside torchvision's DenseNet layer (torchvision/models/densenet.py, `_DenseLayer`), which
 * the graph cannot show: `bn_function` concatenates the layer's inputs, runs norm1, relu1 and conv1 and
 * returns, so its local `concated_features` (the torch.cat result) dies when conv1 returns; `forward` binds
 * conv1's result to `bottleneck_output` and keeps it until the layer returns, although norm2 (folded into
 * conv1 by the exporters) has already read it. Every DenseNet (121/161/169/201) runs this code; measured
 * on densenet121 (bench/groundtruth/h200-torch2.11.json), the reserved peak follows these lifetimes and not the generic rule.
 */
function denseLayerLifetimes(ops: EagerOp[], freeAfter: Map<string, number>, callEnd: (start: number, depth: number) => number): void {
  let bytesById: Map<string, number> | undefined;
  for (let i = 0; i < ops.length; i++) {
    const depth = ops[i]!.path.findIndex((p) => DENSE_LAYER.test(p));
    if (depth < 0) continue;
    const layer = ops[i]!.path.slice(0, depth + 1);
    const end = callEnd(i, depth + 1);
    let conv1 = -1;
    for (let j = i; j <= end && conv1 < 0; j++) if (ops[j]!.convs.length > 0) conv1 = j;
    if (conv1 >= 0) {
      let concatenated = false;
      for (let j = i; j < conv1; j++) {
        const op = ops[j]!;
        if (op.path.length !== layer.length || !op.opTypes.includes("Concat")) continue;
        concatenated = true;
        for (const a of op.allocs) if (!a.transient && freeAfter.has(a.id)) freeAfter.set(a.id, conv1);
      }
      // The first layer of a block concatenates a one-tensor list: torch.cat still copies it, but the dynamo
      // export drops that cat. Put the copy back, in front of norm1's output.
      const input = ops[i]!.reads[0];
      bytesById ??= storageBytes(ops);
      const bytes = input === undefined ? undefined : bytesById.get(input);
      if (!concatenated && input !== undefined && bytes !== undefined) {
        const id = `${input}#cat@${i}`;
        ops[i]!.allocs.unshift({ id, bytes, transient: false, what: "copy" });
        freeAfter.set(id, conv1);
      }
      const op = ops[conv1]!;
      const folded = op.allocs.find((a) => a.what === "folded-bn");
      const bottleneck = folded ?? op.allocs.find((a) => a.what === "output");
      if (bottleneck) {
        bottleneck.transient = false;
        freeAfter.set(bottleneck.id, Math.max(freeAfter.get(bottleneck.id) ?? conv1, end));
      }
    }
    i = end;
  }
}

/** Bytes of each storage as the first op that allocated it recorded them (graph inputs have none). */
function storageBytes(ops: EagerOp[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const op of ops) for (const a of op.allocs) if (!out.has(a.id)) out.set(a.id, a.bytes);
  return out;
}

/**
 * `callEnd(start, depth)`: the last op of the contiguous run from `start` whose paths begin with the first
 * `depth` modules of ops[start]'s path (one call of that module). The run from i continues into i+1 exactly
 * when their paths share at least `depth` modules, so one backward pass per depth answers every start.
 */
export function callEnds(ops: readonly Pick<EagerOp, "path">[]): (start: number, depth: number) => number {
  const n = ops.length;
  const shared = new Int32Array(Math.max(0, n - 1));
  for (let i = 0; i + 1 < n; i++) {
    const a = ops[i]!.path;
    const b = ops[i + 1]!.path;
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    shared[i] = k;
  }
  const byDepth: Int32Array[] = [];
  return (start, depth) => {
    let ends = byDepth[depth];
    if (!ends) {
      ends = new Int32Array(n);
      for (let i = n - 1; i >= 0; i--) ends[i] = i + 1 < n && shared[i]! >= depth ? ends[i + 1]! : i;
      byDepth[depth] = ends;
    }
    return ends[start]!;
  };
}

/** Rows a LayerNormalization normalizes: the product of the dims before `axis` (default -1). */
function layerNormRows(node: Node, x: TensorInfo | undefined): number | undefined {
  const shape = x?.shape;
  if (!shape || !shape.every((d) => typeof d === "number")) return undefined;
  const a = node.attrs["axis"]?.type === "int" ? node.attrs["axis"].value : -1;
  const axis = a < 0 ? a + shape.length : a;
  return elementCount((shape as number[]).slice(0, axis));
}

function tensorBytes(t: TensorInfo | undefined, cast: DType | undefined): number | undefined {
  if (!t || !t.dtype || !t.shape) return undefined;
  let n = 1;
  for (const d of t.shape) {
    if (typeof d !== "number") return undefined;
    n *= d;
  }
  const dtype = cast && isFloat(t.dtype) ? cast : t.dtype;
  return byteSize(dtype, n);
}

/** Module path and aten-op key of a node: dynamo's `namespace`, else the TorchScript exporter's node name. */
export function modulePath(n: Node): { module: string[]; op: string | undefined } {
  if (n.scope !== undefined) {
    // ": pkg.Model/features: torch...Sequential/features.0: ...Conv2dNormActivation/silu: aten.silu.default"
    return { module: modulesOf(n.scope, true), op: n.scope };
  }
  // "/features/features.0/features.0.2/Clip" -> ["features", "features.0", "features.0.2"]
  if (n.name.startsWith("/")) return { module: modulesOf(n.name, false), op: undefined };
  return { module: NO_MODULE, op: undefined };
}

/** The path of a node outside every module (shared: callers never change a path). */
const NO_MODULE: string[] = [];

/**
 * The module names of a path up to its last `/` (the op's own entry is not a module), shared by every node of
 * one module: the nodes of a module write the same prefix, so it is split once (and consecutive nodes of one
 * module are recognised without hashing the prefix). Callers never change the array.
 */
const MODULES = { typed: new Map<string, string[]>(), named: new Map<string, string[]>() };
const MODULES_KEPT = 1 << 16;
let last = { typed: false, prefix: "\u0000", parts: [] as string[] };
function modulesOf(path: string, typed: boolean): string[] {
  const name = (p: string) => (typed ? p.split(":")[0]!.trim() : p);
  const slash = path.lastIndexOf("/");
  // The op's own entry must have a name; a plain character right after the slash (not ':', not a space) is one.
  const next = path.charCodeAt(slash + 1);
  const named = next > 0x20 && next < 0x7f && next !== 0x3a ? true : name(path.slice(slash + 1)) !== "";
  if (!named) {
    // No op entry at the end ("a/b/"): the last module name stands for it, as everywhere else.
    return path.split("/").map(name).filter((p) => p !== "").slice(0, -1);
  }
  const end = Math.max(0, slash);
  if (last.typed === typed && last.prefix.length === end && path.startsWith(last.prefix)) return last.parts;
  const prefix = path.slice(0, end);
  const cache = typed ? MODULES.typed : MODULES.named;
  let parts = cache.get(prefix);
  if (parts === undefined) {
    parts = prefix.split("/").map(name).filter((p) => p !== "");
    if (cache.size >= MODULES_KEPT) cache.clear();
    cache.set(prefix, parts);
  }
  last = { typed, prefix, parts };
  return parts;
}

/** A module path joined with '/', once per path array (paths are shared, see modulesOf); bounded like MODULES. */
const KEYS = new Map<readonly string[], string>();
function moduleKey(path: readonly string[]): string {
  let k = KEYS.get(path);
  if (k === undefined) {
    if (KEYS.size >= MODULES_KEPT) KEYS.clear();
    KEYS.set(path, (k = path.join("/")));
  }
  return k;
}

/** Module paths no other node's path extends: leaf modules (Linear, GELU, LayerNorm), one aten op each. */
function leafPaths(paths: string[][]): Set<string> {
  // Nodes of one module share one path array (modulesOf): each distinct array is joined once.
  const all = new Set<string>();
  const inner = new Set<string>();
  for (const p of new Set(paths)) {
    all.add(moduleKey(p));
    let prefix = "";
    for (let k = 1; k < p.length; k++) {
      prefix = k === 1 ? p[0]! : `${prefix}/${p[k - 1]!}`;
      inner.add(prefix);
    }
  }
  return new Set([...all].filter((p) => !inner.has(p)));
}

/** Whether an op in VIEW_OPS is a view in this instance (a Gather with a scalar index is select(); Cast-free). */
function isView(n: Node, info: Map<string, TensorInfo>): boolean {
  if (n.opType !== "Gather") return true;
  const idx = info.get(n.inputs[1] ?? "");
  return idx?.shape !== undefined && idx.shape.length === 0;
}

/** A view along the leading axis (or a reshape-like one) keeps the tensor contiguous. */
function leadingAxisView(n: Node, info: Map<string, TensorInfo>): boolean {
  if (n.opType === "Transpose") {
    const perm = n.attrs["perm"];
    return perm?.type === "ints" && perm.value.every((p, i) => p === i);
  }
  if (n.opType === "Split" || n.opType === "Gather") {
    const axis = n.attrs["axis"];
    return axis?.type !== "int" || axis.value === 0;
  }
  if (n.opType === "Slice") {
    const axes = info.get(n.inputs[3] ?? "")?.value;
    return axes !== undefined && axes.every((a) => a === 0);
  }
  return false;
}

function inPlaceActivation(opTypes: string[], ins: string[], graphInputs: Set<string>, readers: Map<string, number>): boolean {
  if (ins.length !== 1) return false;
  const x = ins[0]!;
  if (graphInputs.has(x) || (readers.get(x) ?? 0) !== 1) return false;
  if (!opTypes.every((t) => INPLACE_ACTIVATION_OPS.has(t))) return false;
  // A lone Sigmoid or Mul is not an activation module; x * sigmoid(x) (SiLU) and HardSwish are.
  return opTypes.some((t) => SINGLE_INPLACE_OPS.has(t)) || (opTypes.length >= 2 && opTypes.includes("Mul"));
}

/**
 * A Conv with a BatchNorm folded in. Dynamo's exporter keeps the BN's module path on the fused node; the
 * TorchScript exporter gives folded weights fresh names (`onnx::Conv_123`) instead of the module's parameter name.
 */
export function foldedBatchNorm(n: Node, initializers: Map<string, unknown>): boolean {
  if (n.scope !== undefined) return /batch_?norm/i.test(n.scope.split("/").slice(-2).join("/"));
  const w = n.inputs[1] ?? "";
  return initializers.has(w) && w.startsWith("onnx::");
}

/**
 * Parameters and buffers as eager holds them, one allocation each, in the order `model.to(device)` allocates
 * them: Module._apply visits a module's children first (in registration order, taken here as the order of
 * first use), then its own parameters, then its buffers. The order decides which segments the weights fill
 * and so which cached blocks later requests find (vit_b_16 fp16 at batch 1: +25% in graph order, -2% in this
 * order). Each is its own tensor even where the exporter stored equal constants once behind Identity nodes;
 * a folded BatchNorm brings back its weight, bias, running mean and variance (C each) and num_batches_tracked
 * (one int64), and the bias the exporter folded into the conv is not a parameter.
 */
function eagerWeights(model: Model, nodes: Node[], cast: DType | undefined): { bytes: number[]; elements: number; folded: number } {
  const g = model.graph;
  const identity = new Map<string, string>();
  for (const n of nodes) if (n.opType === "Identity" && n.inputs[0] && n.outputs[0]) identity.set(n.outputs[0], n.inputs[0]);
  // Weights an exporter keeps in Constant nodes (paddle2onnx, spox) are parameters too; integer vectors and
  // scalars there are shape arithmetic and Python numbers in eager, not tensors on the device.
  const weights = new Map(g.initializers);
  for (const n of nodes) {
    const v = n.opType === "Constant" ? n.attrs["value"] : undefined;
    if (v?.type === "tensor" && isFloat(v.value.dtype) && v.value.elements > 1 && n.outputs[0]) weights.set(n.outputs[0], v.value);
  }
  const initializer = (name: string) => {
    let at = name;
    for (let hops = 0; hops < 16 && !weights.has(at) && identity.has(at); hops++) at = identity.get(at)!;
    return weights.get(at);
  };
  const bytesOf = (dtype: DType, elements: number) => byteSize(cast && isFloat(dtype) ? cast : dtype, elements);
  interface Param { owner: string[]; bytes: number; buffer: boolean }
  const params: Param[] = [];
  let elements = 0;
  let foldedCount = 0;
  const seen = new Set<string>();
  for (const n of nodes) {
    if (n.opType === "Identity") continue;
    const module = dottedPath(modulePath(n).module);
    const folded = n.opType === "Conv" && foldedBatchNorm(n, g.initializers);
    n.inputs.forEach((name, k) => {
      // Every BatchNorm holds its own vectors, even where an export reads one shared constant for several.
      const own = n.opType === "BatchNormalization" && k >= 1;
      const t = name === "" || (seen.has(name) && !own) ? undefined : initializer(name);
      if (!t || t.elements <= 1 && !isFloat(t.dtype) || (folded && k === 2)) return;
      seen.add(name);
      // A parameter's own name says which module owns it (`encoder.pos_embedding`); renamed ones belong to the reader.
      const named = /^[A-Za-z_]\w*(\.\w+)+$/.test(name);
      const owner = named ? name.split(".").slice(0, -1) : module;
      params.push({ owner, bytes: bytesOf(t.dtype, t.elements), buffer: n.opType === "BatchNormalization" && k >= 3 });
      if (!(n.opType === "BatchNormalization" && k >= 3)) elements += t.elements;
      if (n.opType === "BatchNormalization" && k === 4) params.push({ owner, bytes: 8, buffer: true });
    });
    if (folded) {
      const w = g.initializers.get(n.inputs[1] ?? "");
      const channels = w?.dims[0];
      if (channels === undefined || !w) continue;
      // The BatchNorm is the conv's next sibling: its own module, visited right after the conv.
      const bn = [...module.slice(0, -1), `${module[module.length - 1] ?? ""}#bn`];
      for (let k = 0; k < 4; k++) params.push({ owner: bn, bytes: bytesOf(w.dtype, channels), buffer: k >= 2 });
      params.push({ owner: bn, bytes: 8, buffer: true });
      elements += 2 * channels;
      foldedCount++;
    }
  }
  // Weights inside If/Loop/Scan bodies (silero keeps all of them in its two If branches): the eager module
  // holds every parameter whichever branch runs, so each counts once, owned by its dotted name.
  for (const w of graphWeights(g)) {
    if (!w.subgraph || !isFloat(w.dtype) || w.elements <= 1) continue;
    params.push({ owner: w.name.split(".").slice(0, -1), bytes: bytesOf(w.dtype, w.elements), buffer: false });
    elements += w.elements;
  }
  return { bytes: applyOrder(params), elements, folded: foldedCount };
}

/** Module._apply's order over parameters grouped by owning module (first use stands for registration order). */
function applyOrder(params: { owner: string[]; bytes: number; buffer: boolean }[]): number[] {
  interface Mod { children: Map<string, Mod>; params: number[]; buffers: number[] }
  const root: Mod = { children: new Map(), params: [], buffers: [] };
  for (const p of params) {
    let m = root;
    for (const part of p.owner) {
      let c = m.children.get(part);
      if (!c) m.children.set(part, (c = { children: new Map(), params: [], buffers: [] }));
      m = c;
    }
    (p.buffer ? m.buffers : m.params).push(p.bytes);
  }
  const out: number[] = [];
  const visit = (m: Mod): void => {
    for (const c of m.children.values()) visit(c);
    out.push(...m.params, ...m.buffers);
  };
  visit(root);
  return out;
}

/**
 * A module path as the pieces of its dotted name: TorchScript's `["encoder", "layers"]` and
 * `["features", "features.0"]` and dynamo's full names all give `["encoder", "layers"]` / `["features", "0"]`.
 */
function dottedPath(module: string[]): string[] {
  let full = "";
  for (const e of module) full = full !== "" && !e.startsWith(`${full}.`) ? `${full}.${e}` : e;
  return full === "" ? [] : full.split(".");
}
