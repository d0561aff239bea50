/**
 * Which tensor shapes ONNX Runtime knows when it plans memory, before any run. Its allocation planner
 * shares a buffer between two tensors, or lets a kernel work in place, only when their shapes are the
 * same dim for dim: both a dim_value, or both the same dim_param (allocation_planner.cc, SameShape). The
 * shapes are those of ONNX shape inference on the graph as loaded, from the inputs' declared shapes:
 * - a dim is a value, a name (a dim_param carried through unchanged), or unknown;
 * - shape-preserving and broadcasting ops carry names; Conv/Pool/Resize/Pad/Slice compute a spatial dim
 *   only from a value (onnx defs: convPoolShapeInference and friends leave it unset otherwise), so a
 *   model with symbolic image sizes (paddle2onnx's p2o.DynamicDimension.N) has almost no planned reuse;
 * - Flatten multiplies dims (1 x name = name, anything else with a name is unknown);
 * - a shape computed at run time (Reshape/Expand/... fed by Shape ops) is unknown.
 * Feeds of other shapes do not change the plan: the feeds' concrete shapes are used only at run time.
 */
import type { Model } from "../../graph/ir.js";
import { dimToString, isSym, type Dim } from "../../sym/expr.js";
import type { KnownDim, OrtNode } from "./types.js";

export type { KnownDim } from "./types.js";

const SAME_SHAPE = new Set([
  "Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip", "Elu", "Selu", "Softplus", "Softsign",
  "Cast", "Identity", "Dropout", "Softmax", "LogSoftmax", "Hardmax", "BatchNormalization", "InstanceNormalization",
  "LayerNormalization", "LpNormalization", "LRN", "Erf", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Floor",
  "Ceil", "Round", "Sign", "Not", "Sin", "Cos", "Gelu", "Mish", "ms.Gelu", "ms.FastGelu", "ms.QuickGelu", "ms.BiasGelu",
  "IsNaN", "IsInf", "CumSum", "Celu", "ThresholdedRelu", "Shrink", "Trilu",
]);
const BROADCAST = new Set([
  "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
  "GreaterOrEqual", "And", "Or", "Xor", "Where", "PRelu", "Mod", "BitShift",
]);
const SPATIAL = new Set(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "ConvInteger", "QLinearConv", "ms.FusedConv", "Resize", "Upsample", "Pad"]);
const GLOBAL_POOL = new Set(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]);

export function knownInputDims(model: Model, name: string): KnownDim[] | undefined {
  const vi = model.graph.inputs.find((i) => i.name === name);
  if (vi?.type.kind !== "tensor" || !vi.type.shape) return undefined;
  return vi.type.shape.map((d: Dim): KnownDim => (typeof d === "number" ? d : isSym(d) ? dimToString(d) : null));
}

/** 1 x d = d; values multiply; anything else with a name or an unknown is unknown (onnx's Dimension *). */
function times(a: KnownDim, b: KnownDim): KnownDim {
  if (a === 1) return b;
  if (b === 1) return a;
  return typeof a === "number" && typeof b === "number" ? a * b : null;
}

/** Broadcast per dim, right-aligned: 1s drop out, a value wins over a name, differing names are unknown. */
function broadcastDims(shapes: KnownDim[][]): KnownDim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: KnownDim[] = [];
  for (let i = 0; i < rank; i++) {
    const ds = shapes.map((s) => s[s.length - rank + i]).filter((d): d is KnownDim => d !== undefined && d !== 1);
    if (ds.length === 0) out.push(1);
    else if (ds.every((d) => d === ds[0])) out.push(ds[0]!);
    else out.push(ds.find((d) => typeof d === "number") ?? null);
  }
  return out;
}

/**
 * Per node output 0 (others get the same rule where it is shape-preserving): the dims ORT's shape
 * inference knows. `concrete` is memlens's own shape at the settings (values where ORT has values).
 */
export function knownOutputDims(n: OrtNode, input: (i: number) => KnownDim[] | undefined, concrete: number[], concreteInput: number[] | undefined): KnownDim[] {
  const x = input(0);
  const allValues = n.inputs.every((_, i) => { const s = input(i); return s === undefined || s.every((d) => typeof d === "number"); });
  if (allValues && n.inputs.every((name, i) => name === "" || input(i) !== undefined)) return concrete.slice();
  if (!x) return concrete.map(() => null);
  const op = n.op;
  if (SAME_SHAPE.has(op)) return x.slice();
  if (BROADCAST.has(op)) return broadcastDims(n.inputs.map((_, i) => input(i)).filter((s): s is KnownDim[] => s !== undefined));
  if (SPATIAL.has(op)) return concrete.map((c, i) => (i === 0 ? (x[0] ?? null) : i === 1 && op !== "Pad" ? c : typeof x[i] === "number" ? c : null));
  if (GLOBAL_POOL.has(op)) return concrete.map((c, i) => (i === 0 ? (x[0] ?? null) : c));
  if (op === "Flatten") {
    const axis = Number(n.attrs["axis"]?.type === "int" ? n.attrs["axis"].value : 1);
    const a = axis < 0 ? axis + x.length : axis;
    return [x.slice(0, a).reduce<KnownDim>(times, 1), x.slice(a).reduce<KnownDim>(times, 1)];
  }
  if (op === "Transpose") {
    const perm = n.attrs["perm"]?.type === "ints" ? n.attrs["perm"].value : x.map((_, i) => x.length - 1 - i);
    return perm.map((p) => x[p] ?? null);
  }
  if (op === "MatMul" || op === "ms.FusedMatMul") {
    const b = input(1);
    if (!b || x.length < 2 || b.length < 2) return concrete.map(() => null);
    return [...broadcastDims([x.slice(0, -2), b.slice(0, -2)]), x[x.length - 2]!, b[b.length - 1]!];
  }
  if (op === "Gemm" || op === "ms.FusedGemm") {
    const b = input(1);
    const ta = n.attrs["transA"]?.type === "int" && n.attrs["transA"].value === 1;
    const tb = n.attrs["transB"]?.type === "int" && n.attrs["transB"].value === 1;
    return [x[ta ? 1 : 0] ?? null, b ? (b[tb ? 0 : 1] ?? null) : null];
  }
  // Reshape and the other ops whose output follows constant attributes or inputs: values where memlens's
  // shape equals a dim ORT knows by value or carries by name, else unknown. Conservative: no reuse.
  const keeps = SHAPE_KEEPING.has(op) && x.length === concrete.length && concreteInput?.length === concrete.length;
  return concrete.map((c, i) => (x[i] === c || (keeps && typeof x[i] === "string" && concreteInput![i] === c) ? x[i]! : null));
}

/** Ops that keep their input's rank and carry each dim that they do not compute (Slice on other axes, Split). */
const SHAPE_KEEPING = new Set(["Slice", "Split", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ArgMax", "ArgMin", "TopK", "Concat", "Tile", "Expand", "ReverseSequence", "DepthToSpace", "SpaceToDepth"]);

/** ORT plans a tensor's buffer (reuse, in place) only when every dim is a value or a name. */
export function plannable(dims: readonly KnownDim[] | undefined): boolean {
  return dims !== undefined && dims.every((d) => d !== null);
}

/**
 * ORT's constant folding (constant_folding.cc) replaces a Shape or Size node by an initializer when shape
 * inference knows every dim of its input as a value, and any node that reads only constants. A model with
 * a static input shape so loses its Shape -> Slice -> Concat size computations: a Resize's sizes become a
 * constant, which the NCHWc transformer needs.
 */
export function foldedByOrt(n: OrtNode, input0: readonly KnownDim[] | undefined, constants: ReadonlySet<string>, notFolded: ReadonlySet<string>): boolean {
  if ((n.op === "Shape" || n.op === "Size") && input0 !== undefined && input0.every((d) => typeof d === "number")) return true;
  const live = n.inputs.filter((x) => x !== "");
  return live.length > 0 && live.every((i) => constants.has(i)) && !notFolded.has(n.op);
}
