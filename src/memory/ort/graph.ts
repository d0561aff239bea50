/**
 * The graph ONNX Runtime's CPU provider really runs, modelled from the file: what ORT_ENABLE_ALL does to a
 * graph that matters for memory. Each rewrite removes or adds a tensor the runtime would allocate:
 * - constant folding and Identity/Dropout/no-op Pad elimination (no tensor at run time);
 * - Conv+BatchNormalization, Conv+activation (FusedConv), Gemm+Relu (FusedGemm), Sigmoid+Mul -> QuickGelu
 *   (SiLU), the Erf GELU pattern -> Gelu/BiasGelu, Transpose/scale -> FusedMatMul;
 * - on x86 the NCHWc layout transformer (nchwc.ts): blocked Conv/pool tensors, channels padded to the
 *   block, ReorderInput/ReorderOutput copies at the layout's borders, Conv+Add(+Relu) as a Sum input.
 * Checked against onnxruntime-node's own optimized graph (graph.test.ts, bench/ort-accuracy.ts).
 */
import type { DType } from "../../graph/dtype.js";
import { byteSize } from "../../graph/dtype.js";
import type { Model, Node } from "../../graph/ir.js";
import type { InferenceResult } from "../../shapes/engine.js";
import { evaluate } from "../../sym/expr.js";
import { eliminateCommonSubexpressions } from "./cse.js";
import { applyNchwc } from "./nchwc.js";
import { ortExecutionOrder } from "./order.js";
import { graphWeights } from "../../graph/weights.js";
import { insertHalfCasts } from "./half-casts.js";
import { inlineKnownBranches } from "./branches.js";
import { foldedByOrt, knownInputDims, knownOutputDims, plannable, type KnownDim } from "./known-shapes.js";
import { elementCount } from "../../graph/element-count.js";

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

/** "fp16" or "bf16": the half type most of the model's weights have. */
function modelHalfType(model: Model): string {
  let f16 = 0;
  let b16 = 0;
  for (const w of graphWeights(model.graph)) {
    if (w.dtype === "float16") f16 += w.bytes;
    if (w.dtype === "bfloat16") b16 += w.bytes;
  }
  return b16 > f16 ? "bf16" : "fp16";
}

export interface OrtTensor {
  name: string;
  dtype: DType | undefined;
  /** Concrete dims; undefined when inference could not tell (counted as 0 bytes, with a warning). */
  shape: number[] | undefined;
  bytes: number;
  /** Blocked NCHWc layout (channels padded to the block size). */
  nchwc?: boolean;
  /** ORT's own graph-level shape inference can tell this shape before running (symbolic dims allowed):
   *  only such tensors take part in its buffer reuse. */
  staticShape: boolean;
  /** The dims ORT's shape inference knows (known-shapes.ts): values, dim_param names, null where unknown. */
  knownDims?: KnownDim[];
}

export interface OrtNode {
  name: string;
  /** Op type, with ORT's domain prefix for contrib ops ("nchwc.Conv", "ms.QuickGelu"). */
  op: string;
  inputs: string[];
  outputs: string[];
  /** Fused activation (Conv, Gemm). */
  activation?: string;
  /** Node attributes the NCHWc pass needs (group, kernel). */
  attrs: Node["attrs"];
}

export interface OrtGraph {
  nodes: OrtNode[];
  tensors: Map<string, OrtTensor>;
  inputs: string[];
  outputs: string[];
  /** Initializers and folded constants: never allocated at run time. */
  constants: Set<string>;
  /** Bytes of constants as ORT holds them (reordered Conv weights padded to the block). */
  constantBytes: number;
  /** Bytes of the Conv weights the NCHWc transformer rewrote into blocked copies at load. */
  reorderedWeightBytes: number;
  warnings: string[];
}

export interface OrtGraphOptions {
  /** NCHWc block size: 8 on AVX2 x86, 16 with AVX-512; 0 turns the layout transformer off (ARM). */
  nchwcBlock: number;
}

/** Ops whose output ORT's constant folding never computes at load. */
const NOT_FOLDED = new Set(["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "QuantizeLinear", "DequantizeLinear"]);

export function buildOrtGraph(model: Model, fileInference: InferenceResult, bindings: Record<string, number>, opts: OrtGraphOptions): OrtGraph {
  const { inference, constants: branchConstants } = inlineKnownBranches(fileInference);
  const warnings: string[] = [];
  const tensors = new Map<string, OrtTensor>();
  const unknown: string[] = [];
  const info = (name: string): OrtTensor => {
    let t = tensors.get(name);
    if (t) return t;
    const v = inference.values.get(name);
    let shape: number[] | undefined;
    if (v?.shape) {
      const dims = v.shape.map((d) => evaluate(d, bindings));
      if (dims.every((d): d is number => typeof d === "number")) shape = dims;
    }
    const dtype = v?.dtype;
    const bytes = shape && dtype ? byteSize(dtype, elementCount(shape)) : 0;
    if (!shape || !dtype) unknown.push(name);
    t = { name, dtype, shape, bytes, staticShape: true };
    tensors.set(name, t);
    return t;
  };
  const g = model.graph;
  const constants = new Set<string>([...g.initializers.keys(), ...branchConstants]);
  const inputs = g.inputs.map((v) => v.name).filter((n) => !constants.has(n));
  const outputs = g.outputs.map((v) => v.name);
  let nodes: OrtNode[] = [];
  for (const r of inference.nodes) {
    const n = r.node;
    const op = n.domain === "" ? n.opType : `${n.domain === "com.microsoft" ? "ms" : n.domain}.${n.opType}`;
    const live = n.inputs.filter((i) => i !== "");
    if (n.opType === "Constant" || (live.length > 0 && live.every((i) => constants.has(i)) && !NOT_FOLDED.has(n.opType))) {
      n.outputs.forEach((o) => constants.add(o));
      continue;
    }
    nodes.push({ name: n.name, op, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: n.attrs });
  }
  for (const n of nodes) [...n.inputs, ...n.outputs].forEach((x) => x !== "" && info(x));
  inputs.forEach(info);
  nodes = markStaticShapes(model, nodes, tensors, constants);

  const ctx: RewriteContext = { nodes, tensors, constants, outputs: new Set(outputs), model, inference };
  // Half-precision models: most CPU kernels are fp32 only, so ORT casts around them (half-casts.ts).
  const half = insertHalfCasts(ctx);
  nodes = half.nodes;
  ctx.nodes = nodes;
  if (half.widened > 0) {
    warnings.push(`ort-cpu: this ${modelHalfType(model)} model runs in fp32 on the CPU: +${mib(half.extraConstantBytes + half.widenedBytes)} MiB (fp32 copies of the weights +${mib(half.extraConstantBytes)} MiB weights, ${half.widened} tensors in fp32 +${mib(half.widenedBytes)} MiB activations at these shapes; the CPU provider has no half-precision kernels for most ops)`);
  }
  nodes = eliminateNoOps(ctx);
  ctx.nodes = nodes;
  nodes = eliminateCommonSubexpressions(ctx);
  ctx.nodes = nodes;
  nodes = fuseLevel2(ctx);
  ctx.nodes = nodes;
  // Every weight ORT loads: initializers, Constant nodes (it turns them into initializers) and those of
  // If/Loop/Scan bodies (each subgraph's session state holds its own, whichever branch runs).
  let constantBytes = 0;
  let reorderedWeightBytes = 0;
  for (const w of graphWeights(g)) constantBytes += w.bytes;
  constantBytes += half.extraConstantBytes;
  if (opts.nchwcBlock > 1) {
    const r = applyNchwc(ctx, opts.nchwcBlock);
    nodes = r.nodes;
    constantBytes += r.extraConstantBytes;
    reorderedWeightBytes = r.reorderedWeightBytes;
  }
  nodes = ortExecutionOrder(nodes, outputs);
  if (unknown.length > 0) {
    warnings.push(`ort-cpu: ${unknown.length} tensor${unknown.length > 1 ? "s" : ""} with unknown shape counted as 0 bytes (first: '${unknown[0]}')`);
  }
  return { nodes, tensors, inputs, outputs, constants, constantBytes, reorderedWeightBytes, warnings };
}

/**
 * Which shapes ORT's planner knows (known-shapes.ts): a Reshape/Expand/Tile/ConstantOfShape/Range/Resize/
 * Slice whose shape-giving input is computed at run time (Shape -> Gather -> Concat) produces an unknown
 * shape; otherwise ONNX shape inference from the declared input shapes, dim by dim.
 */
const SHAPE_INPUTS: Record<string, number[]> = {
  Reshape: [1], Expand: [1], Tile: [1], ConstantOfShape: [0], Range: [0, 1, 2], Resize: [1, 2, 3],
  Upsample: [1], Slice: [1, 2, 3, 4], Pad: [1], TopK: [1], NonZero: [0], Unique: [0], OneHot: [1],
  Squeeze: [1], Unsqueeze: [1], ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], Split: [1],
};

function markStaticShapes(model: Model, nodes: readonly OrtNode[], tensors: Map<string, OrtTensor>, constants: Set<string>): OrtNode[] {
  const dims = new Map<string, KnownDim[]>();
  const dimsOf = (x: string | undefined): KnownDim[] | undefined => {
    if (x === undefined || x === "") return undefined;
    const known = dims.get(x);
    if (known) return known;
    const t = tensors.get(x);
    if (constants.has(x)) return t?.shape ?? model.graph.initializers.get(x)?.dims;
    const declared = knownInputDims(model, x);
    if (declared) {
      dims.set(x, declared);
      if (t) t.knownDims = declared;
    }
    return declared;
  };
  const kept: OrtNode[] = [];
  for (const n of nodes) {
    if (foldedByOrt(n, dimsOf(n.inputs[0]), constants, NOT_FOLDED)) {
      n.outputs.forEach((o) => constants.add(o));
      continue;
    }
    kept.push(n);
    const shapeArgs = SHAPE_INPUTS[n.op] ?? [];
    const shapeKnown = shapeArgs.every((i) => { const x = n.inputs[i]; return x === undefined || x === "" || constants.has(x); });
    n.outputs.forEach((o, k) => {
      const t = tensors.get(o);
      if (!t) return;
      const concrete = t.shape ?? [];
      // Shape's output is always [rank]: known even when the input's dims are not.
      const d = n.op === "Shape" || n.op === "Size" ? concrete.slice()
        : !shapeKnown || !t.shape ? concrete.map(() => null)
        : knownOutputDims(k === 0 ? n : { ...n, op: "" }, (i) => dimsOf(n.inputs[i]), concrete, tensors.get(n.inputs[0] ?? "")?.shape);
      dims.set(o, d);
      t.staticShape = plannable(d);
      t.knownDims = d;
    });
  }
  return kept;
}

export interface RewriteContext {
  nodes: OrtNode[];
  tensors: Map<string, OrtTensor>;
  constants: Set<string>;
  outputs: Set<string>;
  model: Model;
  inference: InferenceResult;
}

/** name -> consumer nodes. */
export function consumersOf(nodes: readonly OrtNode[]): Map<string, OrtNode[]> {
  const m = new Map<string, OrtNode[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i === "") continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

function renameInputs(nodes: OrtNode[], from: string, to: string): void {
  for (const n of nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/** Constant values of a small initializer/Constant output, when the inference tracked them. */
function constValues(ctx: RewriteContext, name: string): number[] | undefined {
  if (!ctx.constants.has(name)) return undefined;
  const v = ctx.inference.values.get(name)?.value;
  if (!v || !v.every((x): x is number => typeof x === "number")) return undefined;
  return v;
}

/**
 * ORT's NoopElimination (level 1): x + 0, 0 + x, x - 0, x * 1, 1 * x and x / 1 by a one-element constant
 * are x when the constant broadcasts nothing (same output shape and type). Returns x, or undefined.
 */
function arithmeticIdentityInput(ctx: RewriteContext, n: OrtNode): string | undefined {
  const neutral = n.op === "Add" || n.op === "Sub" ? 0 : n.op === "Mul" || n.op === "Div" ? 1 : undefined;
  if (neutral === undefined || n.inputs.length !== 2) return undefined;
  const [a, b] = n.inputs as [string, string];
  // Sub and Div are neutral on the right only.
  const candidates: [string, string][] = n.op === "Sub" || n.op === "Div" ? [[a, b]] : [[a, b], [b, a]];
  for (const [x, c] of candidates) {
    const v = constValues(ctx, c);
    if (ctx.constants.has(x) || !v || v.length !== 1 || v[0] !== neutral) continue;
    const tx = ctx.tensors.get(x);
    const ty = ctx.tensors.get(n.outputs[0] ?? "");
    const cShape = ctx.inference.values.get(c)?.shape;
    const sameShape = tx?.shape !== undefined && ty?.shape !== undefined && tx.shape.join("x") === ty.shape.join("x");
    // A constant of higher rank than x would add axes even with one element.
    if (sameShape && tx?.dtype === ty?.dtype && (cShape?.length ?? 0) <= tx!.shape!.length) return x;
  }
  return undefined;
}

/** Identity, Dropout (inference), Pad by zero, same-type Cast and arithmetic identities hand their input
 *  on: no tensor. */
function eliminateNoOps(ctx: RewriteContext): OrtNode[] {
  const kept: OrtNode[] = [];
  for (const n of ctx.nodes) {
    const out = n.outputs[0];
    const identity = arithmeticIdentityInput(ctx, n);
    const src = identity ?? n.inputs[0];
    let noop = identity !== undefined || n.op === "Identity" || (n.op === "Dropout" && (n.outputs.length < 2 || n.outputs[1] === ""));
    if (n.op === "Pad" && src) {
      const pads = n.inputs[1] ? constValues(ctx, n.inputs[1]) : (n.attrs["pads"]?.type === "ints" ? n.attrs["pads"].value : undefined);
      noop = pads !== undefined && pads.every((p) => p === 0);
    }
    if (n.op === "Cast" && src && out) noop = ctx.tensors.get(src)?.dtype === ctx.tensors.get(out)?.dtype;
    if (noop && src && out && !ctx.outputs.has(out)) {
      renameInputs(ctx.nodes, out, src);
      continue;
    }
    kept.push(n);
  }
  return kept;
}

const CONV_ACTIVATIONS = new Set(["Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid"]);

/**
 * Who reads each tensor while the fusions rewrite the graph, without rebuilding consumersOf over the whole graph
 * at every question (that was quadratic): every node that ever read a name is kept, and a question counts the
 * input slots of those not removed that still read it, so it answers as consumersOf(live nodes) would.
 * `reads(n)` must follow every change of n.inputs.
 */
interface ReaderIndex {
  slots(name: string): { count: number; node: OrtNode | undefined };
  reads(n: OrtNode): void;
}

function readerIndex(nodes: readonly OrtNode[], removed: ReadonlySet<OrtNode>): ReaderIndex {
  const byName = new Map<string, Set<OrtNode>>();
  const reads = (n: OrtNode): void => {
    for (const i of n.inputs) {
      if (i === "") continue;
      const set = byName.get(i);
      if (set) set.add(n);
      else byName.set(i, new Set([n]));
    }
  };
  for (const n of nodes) reads(n);
  return {
    reads,
    slots(name) {
      let count = 0;
      let node: OrtNode | undefined;
      for (const n of byName.get(name) ?? []) {
        if (removed.has(n)) continue;
        for (const i of n.inputs) {
          if (i !== name) continue;
          count++;
          node ??= n;
        }
      }
      return { count, node };
    },
  };
}

/** The level 1-2 fusions (ORT_ENABLE_EXTENDED) that change which tensors exist. */
function fuseLevel2(ctx: RewriteContext): OrtNode[] {
  const removed = new Set<OrtNode>();
  const readers = readerIndex(ctx.nodes, removed);
  const only = (name: string): OrtNode | undefined => {
    const c = readers.slots(name);
    return c.count === 1 && !ctx.outputs.has(name) ? c.node : undefined;
  };
  /** Replace `n`'s output by `victim`'s (victim removed). */
  const absorb = (n: OrtNode, victim: OrtNode): void => {
    n.outputs = [victim.outputs[0]!];
    removed.add(victim);
  };
  for (const n of ctx.nodes) {
    if (removed.has(n)) continue;
    const out = n.outputs[0];
    if (!out) continue;
    if (n.op === "Conv") {
      const next = only(out);
      if (next?.op === "BatchNormalization" && next.inputs.slice(1).every((i) => ctx.constants.has(i))) absorb(n, next);
    }
    if (n.op === "Sigmoid") {
      const x = n.inputs[0]!;
      const mul = only(out);
      if (mul?.op === "Mul" && mul.inputs.includes(x) && mul.inputs.includes(out)) {
        n.op = "ms.QuickGelu";
        absorb(n, mul);
      }
    }
    if (n.op === "Erf") fuseGelu(ctx, n, removed, only, readers);
  }
  // Activations fold into the producer once the patterns above have settled.
  for (const n of ctx.nodes) {
    if (removed.has(n) || (n.op !== "Conv" && n.op !== "Gemm") || n.activation) continue;
    const next = only(n.outputs[0]!);
    if (!next) continue;
    if ((n.op === "Conv" && CONV_ACTIVATIONS.has(next.op)) || (n.op === "Gemm" && next.op === "Relu")) {
      n.activation = next.op;
      n.op = n.op === "Conv" ? "ms.FusedConv" : "ms.FusedGemm";
      absorb(n, next);
    }
  }
  for (const n of ctx.nodes) {
    if (removed.has(n) || n.op !== "MatMul") continue;
    // Transposes (last two axes; batch axis moved, rank 3) and scaling by a constant scalar fold into
    // FusedMatMul (transA/transB, transBatchA/transBatchB, alpha).
    // A scale and a transpose can both sit on one input: look again after each absorption.
    for (let k = 0, tries = 0; k < 2 && tries < 8; tries++) {
      const src = ctx.nodes.find((p) => !removed.has(p) && p.outputs[0] === n.inputs[k]);
      if (!src || only(src.outputs[0]!) !== n) {
        k++;
        continue;
      }
      const perm = src.attrs["perm"]?.type === "ints" ? src.attrs["perm"].value : undefined;
      const swapsLast = perm !== undefined && perm.length >= 2 && perm.every((p, i) => (i < perm.length - 2 ? p === i : p === (i === perm.length - 1 ? perm.length - 2 : perm.length - 1)));
      // Rank 3: the batch axis moved to the middle (transBatch), with or without the last two swapped.
      const movesBatch = perm !== undefined && perm.length === 3 && ((perm[0] === 1 && perm[1] === 0 && perm[2] === 2) || (perm[0] === 1 && perm[1] === 2 && perm[2] === 0));
      const scalar = (src.op === "Mul" || src.op === "Div") && src.inputs.some((i) => ctx.constants.has(i) && (ctx.tensors.get(i)?.shape ?? [2]).every((d) => d === 1));
      if ((src.op === "Transpose" && (swapsLast || movesBatch)) || scalar) {
        n.inputs[k] = src.inputs.find((i) => !ctx.constants.has(i))!;
        readers.reads(n);
        n.op = "ms.FusedMatMul";
        removed.add(src);
      } else k++;
    }
  }
  return ctx.nodes.filter((n) => !removed.has(n));
}

/** x -> Div(sqrt2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5) (any order of the last two): Gelu(x), or
 *  BiasGelu when x is Add(y, constant bias). */
function fuseGelu(ctx: RewriteContext, erf: OrtNode, removed: Set<OrtNode>, only: (name: string) => OrtNode | undefined, readers: ReaderIndex): void {
  const producer = (name: string) => ctx.nodes.find((p) => !removed.has(p) && p.outputs.includes(name));
  const div = producer(erf.inputs[0]!);
  if (!div || (div.op !== "Div" && div.op !== "Mul")) return;
  const x = div.inputs[0]!;
  const add = only(erf.outputs[0]!);
  if (add?.op !== "Add") return;
  const m1 = only(add.outputs[0]!);
  if (m1?.op !== "Mul") return;
  const m2 = only(m1.outputs[0]!);
  let last = m1;
  const group = [div, add, m1];
  if (!m1.inputs.includes(x)) {
    // (1 + erf) * 0.5 first, then * x
    if (m2?.op !== "Mul" || !m2.inputs.includes(x)) return;
    last = m2;
    group.push(m2);
  } else if (m2?.op === "Mul" && m2.inputs.some((i) => ctx.constants.has(i))) {
    last = m2;
    group.push(m2);
  }
  erf.op = "ms.Gelu";
  erf.inputs = [x];
  readers.reads(erf);
  erf.outputs = [last.outputs[0]!];
  group.forEach((n) => removed.add(n));
  const bias = producer(x);
  if (bias?.op === "Add" && readers.slots(x).count === 1 && bias.inputs.some((i) => ctx.constants.has(i))) {
    erf.op = "ms.BiasGelu";
    // BiasGelu(X, bias), whichever side of the Add the constant was on (the kernel sizes by X).
    const b = bias.inputs.find((i) => ctx.constants.has(i))!;
    erf.inputs = [bias.inputs.find((i) => i !== b) ?? b, b];
    readers.reads(erf);
    removed.add(bias);
  }
  // Keep graph order: the fused node runs where the pattern's last node ran.
  const nodes = ctx.nodes;
  nodes.splice(nodes.indexOf(erf), 1);
  nodes.splice(nodes.indexOf(last) + 1, 0, erf);
}
