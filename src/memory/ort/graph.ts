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
import { byteSize } from "../../graph/dtype.js";
import type { Model } from "../../graph/ir.js";
import type { InferenceResult } from "../../shapes/engine.js";
import { evaluate } from "../../sym/expr.js";
import { eliminateCommonSubexpressions } from "./cse.js";
import { applyNchwc } from "./nchwc.js";
import { ortExecutionOrder } from "./order.js";
import { graphWeights } from "../../graph/weights.js";
import { insertHalfCasts } from "./half-casts.js";
import { inlineKnownBranches } from "./branches.js";
import { foldedByOrt, knownInputDims, knownOutputDims, plannable } from "./known-shapes.js";
import { eliminateNoOps } from "./noops.js";
import { fuseLevel2 } from "./fusions.js";
import { elementCount } from "../../graph/element-count.js";
import type { KnownDim, OrtGraph, OrtGraphOptions, OrtNode, OrtTensor, RewriteContext } from "./types.js";

export type { OrtGraph, OrtGraphOptions, OrtNode, OrtTensor, RewriteContext } from "./types.js";
export { consumersOf } from "./types.js";

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
  // ORT's level-1 transformers (no-op elimination, CSE) run before the graph is partitioned and
  // InsertCastTransformer runs (inference_session.cc TransformGraph), so they see the file's own types.
  nodes = eliminateNoOps(ctx);
  ctx.nodes = nodes;
  nodes = eliminateCommonSubexpressions(ctx);
  ctx.nodes = nodes;
  // Half-precision models: most CPU kernels are fp32 only, so ORT casts around them (half-casts.ts).
  const half = insertHalfCasts(ctx);
  nodes = half.nodes;
  ctx.nodes = nodes;
  if (half.widened > 0) {
    warnings.push(`ort-cpu: this ${modelHalfType(model)} model runs in fp32 on the CPU: +${mib(half.extraConstantBytes + half.widenedBytes)} MiB (fp32 copies of the weights +${mib(half.extraConstantBytes)} MiB weights, ${half.widened} tensors in fp32 +${mib(half.widenedBytes)} MiB activations at these shapes; the CPU provider has no half-precision kernels for most ops)`);
  }
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
