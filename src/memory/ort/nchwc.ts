/**
 * ORT's NCHWc layout transformer (onnxruntime/core/optimizer/nchwc_transformer.cc), level 3 on x86: Conv,
 * pooling and BatchNormalization move to MLAS's blocked layout, where channels are padded up to the block
 * size; tensors cross back and forth with ReorderInput/ReorderOutput copies. Which nodes convert decides
 * which copies exist, so the rules below are the transformer's (checked against ORT 1.30's output):
 * - Conv with a constant 4-D weight: depthwise (group == in == out channels, padded up to the block: ORT 1.30
 *   converts ch_ppocr_mobile_v2.0_cls's depthwise convs of 8, 24, 40, 88, 104 and 200 channels) or group 1
 *   with input channels a multiple of the block, or fewer than the block (read directly from NCHW);
 * - MaxPool/AveragePool/GlobalAveragePool/GlobalMaxPool and BatchNormalization (as a depthwise Conv) on
 *   a blocked input or channels a multiple of the block;
 * - Conv followed by Add of a blocked tensor of the same shape: the Add becomes the Conv's Sum input, and
 *   a Relu after it the Conv's activation;
 * - Concat on channels of blocked inputs whose channels are multiples of the block, same-shape binary
 *   elementwise ops and unary activations stay blocked;
 * - anything else reads NCHW: one ReorderOutput per blocked tensor, before its first such reader.
 */
import type { OrtNode, OrtTensor, RewriteContext } from "./types.js";
import { consumersOf } from "./types.js";
import { convPoolShape, provablyEqual, selfShape, type NchwcShape } from "./nchwc-shape.js";
import { elementCount } from "../../graph/element-count.js";

const POOLS = new Set(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]);
const BLOCKED_UNARY = new Set(["Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "ms.QuickGelu"]);
const BLOCKED_BINARY = new Set(["Add", "Sub", "Mul", "Div", "Sum", "Max", "Min"]);
const CONV_ACTIVATIONS = new Set(["Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid"]);

export function applyNchwc(ctx: RewriteContext, block: number): { nodes: OrtNode[]; extraConstantBytes: number; reorderedWeightBytes: number } {
  const { tensors, constants } = ctx;
  const roundUp = (c: number) => Math.ceil(c / block) * block;
  /** Original NCHW name -> its blocked twin (made by the producer or by a ReorderInput). */
  const blockedOf = new Map<string, string>();
  /** Blocked name -> NCHW name produced by a ReorderOutput (made once, on first need). */
  const nchwOf = new Map<string, string>();
  const out: OrtNode[] = [];
  let extraConstantBytes = 0;
  let reorderedWeightBytes = 0;

  const t = (name: string): OrtTensor | undefined => tensors.get(name);
  const channels = (name: string): number | undefined => {
    const s = t(name)?.shape;
    return s && s.length === 4 ? s[1] : undefined;
  };
  const makeBlocked = (like: string, ch: number): string => {
    const src = t(like)!;
    // Named after the NCHW tensor it holds, so reports stay readable.
    const name = `${like} (NCHWc)`;
    const shape = src.shape ? [src.shape[0]!, roundUp(ch), ...src.shape.slice(2)] : undefined;
    const elem = src.shape && src.bytes > 0 ? src.bytes / elementCount(src.shape) : 4;
    tensors.set(name, { name, dtype: src.dtype, shape, bytes: shape ? elementCount(shape) * elem : 0, nchwc: true, staticShape: src.staticShape });
    return name;
  };
  /** The blocked form of an input, adding a ReorderInput if it is NCHW. */
  const blockedInput = (name: string): string => {
    const b = blockedOf.get(name);
    if (b) return b;
    const twin = makeBlocked(name, channels(name) ?? 0);
    out.push({ name: `ReorderInput_${twin}`, op: "nchwc.ReorderInput", inputs: [name], outputs: [twin], attrs: {} });
    blockedOf.set(name, twin);
    return twin;
  };
  /** The NCHW form of a value for a node that does not read blocked tensors. */
  const plainInput = (name: string): string => {
    const b = blockedOf.get(name);
    if (!b || !producedBlocked.has(name)) return name;
    let n = nchwOf.get(b);
    if (!n) {
      n = name; // ReorderOutput writes the original tensor, so NCHW readers keep its name
      out.push({ name: `ReorderOutput_${b}`, op: "nchwc.ReorderOutput", inputs: [b], outputs: [name], attrs: {} });
      nchwOf.set(b, n);
    }
    return n;
  };
  /** Original names whose producer now writes the blocked twin (the NCHW name needs a ReorderOutput). */
  const producedBlocked = new Set<string>();
  const isBlocked = (name: string) => blockedOf.has(name) && producedBlocked.has(name);
  /** The transformer's shape hint of each blocked tensor, by its NCHW name (nchwc-shape.ts). */
  const hints = new Map<string, NchwcShape>();
  const hintOf = (name: string) => hints.get(name) ?? selfShape(name);
  const provable = (a: string, b: string, aHint: NchwcShape = hintOf(a)) => provablyEqual(aHint, hintOf(b), t(a)?.knownDims, t(b)?.knownDims);
  const emitBlocked = (n: OrtNode, op: string, inputs: string[], ch: number, hint: NchwcShape = selfShape(n.outputs[0]!)): void => {
    const o = n.outputs[0]!;
    hints.set(o, hint);
    const twin = makeBlocked(o, ch);
    blockedOf.set(o, twin);
    producedBlocked.add(o);
    out.push({ ...n, op, inputs, outputs: [twin] });
  };

  const consumers = consumersOf(ctx.nodes);
  const fusedAway = new Set<OrtNode>();
  for (const n of ctx.nodes) {
    if (fusedAway.has(n)) continue;
    const x = n.inputs[0] ?? "";
    const base = n.op === "ms.FusedConv" ? "Conv" : n.op;
    if (base === "Conv" && convertsConv(ctx, n, block)) {
      const w = t(n.inputs[1]!)!.shape!;
      const group = n.attrs["group"]?.type === "int" ? n.attrs["group"].value : 1;
      const cin = w[1]! * group;
      const cout = w[0]!;
      // Fewer input channels than the block: MLAS reads NCHW directly (a blocked producer needs a
      // ReorderOutput). A multiple of 4 that is not one of the block reads the padded blocked tensor.
      const readNchw = group === 1 && cin < block;
      const input = readNchw ? plainInput(x) : blockedInput(x);
      reorderedWeightBytes += t(n.inputs[1]!)!.bytes;
      extraConstantBytes += (roundUp(cout) - cout) * (readNchw ? cin : roundUp(group === 1 ? cin : 1)) * w[2]! * w[3]! * 4;
      const inputs = [input, ...n.inputs.slice(1)];
      const node: OrtNode = { ...n };
      const hint = !readNchw && isBlocked(x) ? convPoolShape(n, hintOf(x), n.outputs[0]!, w.slice(2)) : selfShape(n.outputs[0]!);
      // Conv + Add (+ Relu): the Add's other operand becomes the Sum input.
      const o = n.outputs[0]!;
      const users = consumers.get(o) ?? [];
      const add = !n.activation && users.length === 1 && !ctx.outputs.has(o) && users[0]!.op === "Add" ? users[0]! : undefined;
      const other = add?.inputs.find((i) => i !== o);
      // The Add fuses only when the transformer can prove both shapes equal (nchwc-shape.ts).
      if (add && other && isBlocked(other) && sameShape(t(other), t(o)) && provable(o, other, hint) && !ctx.outputs.has(add.outputs[0]!)) {
        while (inputs.length < 3) inputs.push("");
        inputs.push(blockedOf.get(other)!);
        fusedAway.add(add);
        node.outputs = [add.outputs[0]!];
        const after = consumers.get(add.outputs[0]!) ?? [];
        if (after.length === 1 && after[0]!.op === "Relu" && !ctx.outputs.has(add.outputs[0]!)) {
          node.activation = "Relu";
          node.outputs = [after[0]!.outputs[0]!];
          fusedAway.add(after[0]!);
        }
        tensors.set(node.outputs[0]!, t(node.outputs[0]!) ?? { ...t(o)!, name: node.outputs[0]! });
      }
      emitBlocked(node, "nchwc.Conv", inputs, cout, hint);
      continue;
    }
    if ((POOLS.has(n.op) || n.op === "BatchNormalization") && channels(x) !== undefined && (isBlocked(x) || channels(x)! % block === 0)) {
      const pooled = n.op === "BatchNormalization" ? "nchwc.Conv" : `nchwc.${n.op}`;
      const node: OrtNode = { ...n, outputs: [n.outputs[0]!] };
      // BatchNormalization becomes a depthwise Conv, so a Relu after it fuses like any Conv activation.
      const after = consumers.get(n.outputs[0]!) ?? [];
      if (n.op === "BatchNormalization" && after.length === 1 && after[0]!.op === "Relu" && !ctx.outputs.has(n.outputs[0]!)) {
        node.activation = "Relu";
        node.outputs = [after[0]!.outputs[0]!];
        fusedAway.add(after[0]!);
      }
      const kernel = n.attrs["kernel_shape"]?.type === "ints" ? n.attrs["kernel_shape"].value : undefined;
      const hint = !isBlocked(x) || n.op.startsWith("Global") ? selfShape(node.outputs[0]!)
        : n.op === "BatchNormalization" ? hintOf(x) : convPoolShape(n, hintOf(x), node.outputs[0]!, kernel);
      emitBlocked(node, pooled, [blockedInput(x), ...(n.op === "BatchNormalization" ? [] : n.inputs.slice(1))], channels(n.outputs[0]!) ?? channels(x)!, hint);
      continue;
    }
    const live = n.inputs.filter((i) => i !== "");
    if (n.op === "Concat" && live.length > 0 && live.every((i) => isBlocked(i) && channels(i)! % block === 0) && concatAxis(n, t(x)) === 1) {
      const h = hintOf(x);
      emitBlocked(n, "Concat", live.map((i) => blockedOf.get(i)!), channels(n.outputs[0]!)!, { dims: [h.dims[0], n.outputs[0]!, h.dims[2], h.dims[3]], shifts: [...h.shifts] });
      continue;
    }
    if ((n.op === "Resize" || n.op === "Upsample") && isBlocked(x) && upsamplesBlocked(ctx, n)) {
      emitBlocked(n, "nchwc.Upsample", [blockedOf.get(x)!], channels(x)!);
      continue;
    }
    if (BLOCKED_UNARY.has(n.op) && isBlocked(x)) {
      emitBlocked(n, n.op, [blockedOf.get(x)!, ...n.inputs.slice(1)], channels(x)!, hintOf(x));
      continue;
    }
    if (BLOCKED_BINARY.has(n.op) && live.length >= 2 && live.every((i) => isBlocked(i) && sameShape(t(i), t(x)))) {
      // Shapes the transformer cannot prove equal: an Add/Sum still runs blocked (through Reshapes, which
      // alias), any other op reads NCHW.
      const proven = live.every((i) => provable(x, i));
      if (proven || n.op === "Add" || n.op === "Sum") {
        emitBlocked(n, n.op, live.map((i) => blockedOf.get(i)!), channels(x)!, proven ? hintOf(x) : selfShape(n.outputs[0]!));
        continue;
      }
    }
    out.push({ ...n, inputs: n.inputs.map((i) => (i === "" || constants.has(i) ? i : plainInput(i))) });
  }
  for (const o of ctx.outputs) if (isBlocked(o)) plainInput(o);
  return { nodes: out, extraConstantBytes, reorderedWeightBytes };
}

function convertsConv(ctx: RewriteContext, n: OrtNode, block: number): boolean {
  const wName = n.inputs[1];
  if (!wName || !ctx.constants.has(wName)) return false;
  if (n.activation && !CONV_ACTIVATIONS.has(n.activation)) return false;
  const w = ctx.tensors.get(wName)?.shape;
  const x = ctx.tensors.get(n.inputs[0]!)?.shape;
  if (!w || w.length !== 4 || !x || x.length !== 4) return false;
  const group = n.attrs["group"]?.type === "int" ? n.attrs["group"].value : 1;
  const cout = w[0]!;
  const cin = w[1]! * group;
  if (group > 1) return group === cin && group === cout;
  // Input channels need only be a multiple of 4 (ORT 1.30 converts Cin 20 and 28, not 10).
  return cin < block || cin % 4 === 0;
}

/**
 * Resize/Upsample of a blocked tensor becomes nchwc.Upsample (TransformResize): constant scales or sizes
 * (after constant folding) that scale only H and W, by whole numbers; nearest with asymmetric coordinates
 * and floor rounding, or linear. ORT 1.30's optimized graph of imgly-medium has linear half_pixel Resizes
 * with constant sizes as nchwc.Upsample (mode and coordinate mode kept as attributes); linear
 * asymmetric/align_corners is assumed to follow the same path.
 */
function upsamplesBlocked(ctx: RewriteContext, n: OrtNode): boolean {
  const str = (k: string, d: string) => (n.attrs[k]?.type === "string" ? n.attrs[k].value : d);
  const mode = str("mode", "nearest");
  const coords = str("coordinate_transformation_mode", "half_pixel");
  if (n.op === "Resize" && mode === "nearest" && (coords !== "asymmetric" || str("nearest_mode", "round_prefer_floor") !== "floor")) return false;
  if (mode !== "nearest" && !(mode === "linear" && ["half_pixel", "asymmetric", "align_corners"].includes(coords))) return false;
  const scaleInputs = n.inputs.slice(1).filter((i) => i !== "");
  if (!scaleInputs.every((i) => ctx.constants.has(i))) return false;
  const x = ctx.tensors.get(n.inputs[0]!)?.shape;
  const y = ctx.tensors.get(n.outputs[0]!)?.shape;
  if (!x || !y || x.length !== 4 || y.length !== 4) return false;
  return x[0] === y[0] && x[1] === y[1] && [2, 3].every((i) => y[i]! % x[i]! === 0 && y[i]! >= x[i]!);
}

function concatAxis(n: OrtNode, x: OrtTensor | undefined): number | undefined {
  const a = n.attrs["axis"]?.type === "int" ? n.attrs["axis"].value : undefined;
  if (a === undefined || !x?.shape) return undefined;
  return a < 0 ? a + x.shape.length : a;
}

function sameShape(a: OrtTensor | undefined, b: OrtTensor | undefined): boolean {
  return !!a?.shape && !!b?.shape && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape![i]);
}
