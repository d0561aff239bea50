/**
 * fp16/bf16 models on ORT's CPU provider. Most CPU kernels are registered for float only: the session's
 * InsertCastTransformer (onnxruntime/core/optimizer/insert_cast_transformer.cc) gives every node without a
 * half-precision kernel fp32 inputs through Cast nodes and casts its outputs back, then removes the Cast
 * pairs that cancel, so chains of such nodes run in fp32 with no casts between them. Constant folding then
 * folds each Cast of an initializer into a new fp32 initializer (the half one is no longer read and is
 * removed at load), so those weights take twice their file size.
 *
 * Which ops keep half precision on x86-64: the type-generic data-movement kernels, registered for all
 * tensor types (cpu_execution_provider.cc; Concat, Reshape, Transpose, Slice, Gather, ...). The MLFloat16
 * compute kernels there (Relu, LeakyRelu, Gemm, MaxPool, GlobalAveragePool, ...) are compiled only with
 * MLAS_F16VEC_INTRINSICS_SUPPORTED, which x86 builds do not define. Checked against the graph onnxruntime
 * writes (optimizedModelFilePath) for imgly's fp16 IS-Net: every Conv, MaxPool, Resize, Add and Sigmoid in
 * fp32, the Concats in fp16 between casts, all 238 weights fp32 initializers (half-casts.test.ts).
 */
import type { OrtNode, OrtTensor, RewriteContext } from "./types.js";

/** Ops the CPU provider runs in fp16/bf16 on x86-64 (type-generic kernels). */
export const HALF_KERNELS = new Set([
  "Concat", "Reshape", "Transpose", "Slice", "Gather", "GatherElements", "GatherND", "Squeeze", "Unsqueeze", "Flatten",
  "Identity", "Split", "Expand", "Tile", "Shape", "Size", "Cast", "Pad", "DepthToSpace", "SpaceToDepth", "Where",
  "ScatterND", "ScatterElements", "Compress", "ReverseSequence", "Trilu", "If", "Loop", "Scan",
]);

const HALF = new Set(["float16", "bfloat16"]);

export interface HalfCastResult {
  nodes: OrtNode[];
  /** Bytes the fp32 copies of half weights add (constant folding of their Casts). */
  extraConstantBytes: number;
  /** Half tensors that run in fp32: how many, and the bytes the widening adds (at the analysed shapes). */
  widened: number;
  widenedBytes: number;
}

export function insertHalfCasts(ctx: RewriteContext): HalfCastResult {
  const { tensors, constants } = ctx;
  const t = (name: string): OrtTensor | undefined => tensors.get(name);
  const isHalf = (name: string) => name !== "" && HALF.has(t(name)?.dtype ?? "");
  if (![...tensors.values()].some((x) => HALF.has(x.dtype ?? ""))) return { nodes: ctx.nodes, extraConstantBytes: 0, widened: 0, widenedBytes: 0 };
  const out: OrtNode[] = [];
  /** name -> the same value in the other precision (a Cast node's output, or a folded fp32 initializer). */
  const casted = new Map<string, string>();
  const halfOf = new Map<string, string>();
  let extraConstantBytes = 0;
  let widened = 0;
  let widenedBytes = 0;
  const widen = (name: string) => {
    const x = t(name)!;
    const bytes = x.bytes * 2;
    widened++;
    widenedBytes += bytes - x.bytes;
    tensors.set(name, { ...x, dtype: "float32", bytes });
  };
  const fp32Input = (name: string): string => {
    const known = casted.get(name);
    if (known) return known;
    const x = t(name)!;
    const to = `${name} (fp32)`;
    tensors.set(to, { ...x, name: to, dtype: "float32", bytes: x.bytes * 2 });
    casted.set(name, to);
    if (constants.has(name)) {
      // Constant folding computes Cast(initializer) at load: a new fp32 initializer, no node.
      constants.add(to);
      extraConstantBytes += x.bytes * 2;
    } else out.push({ name: `InsertedPrecisionFreeCast_${name}`, op: "Cast", inputs: [name], outputs: [to], attrs: {} });
    return to;
  };
  const halfInput = (name: string): string => {
    const half = halfOf.get(name);
    if (half) return half;
    const x = t(name)!;
    const to = `${name} (fp16)`;
    tensors.set(to, { ...x, name: to, dtype: "float16", bytes: x.bytes / 2 });
    halfOf.set(name, to);
    out.push({ name: `InsertedPrecisionFreeCast_${to}`, op: "Cast", inputs: [name], outputs: [to], attrs: {} });
    return to;
  };
  const forced = isolatedHalfNodes(ctx, isHalf);
  /** Tensors that were half in the file and now hold fp32 (their producer runs in fp32). */
  const nowFloat = new Set<string>();
  /** Cast nodes of the file that ORT removes: their output is read as their (fp32) input. */
  const alias = new Map<string, string>();
  for (const n0 of ctx.nodes) {
    const n = { ...n0, inputs: n0.inputs.map((i) => alias.get(i) ?? i) };
    const src = n.inputs[0] ?? "";
    const dst = n.outputs[0] ?? "";
    const srcFloat = nowFloat.has(src) || t(src)?.dtype === "float32";
    if (n.op === "Cast" && srcFloat && !ctx.outputs.has(dst) && (isHalf(dst) || t(dst)?.dtype === "float32")) {
      // A cast to half of what now is fp32, or one that became fp32 to fp32: the Cast pair it forms with
      // the inserted one cancels (RemoveDuplicateCastTransformer), and readers take the fp32 value.
      alias.set(dst, src);
      nowFloat.add(src);
      continue;
    }
    const touchesHalf = n.inputs.some((i) => isHalf(i) || nowFloat.has(i)) || n.outputs.some(isHalf);
    if (!touchesHalf) {
      out.push(n);
      continue;
    }
    if (HALF_KERNELS.has(n.op) && !forced.has(n0)) {
      // Runs in half precision: inputs an fp32 producer now writes are cast back.
      out.push({ ...n, inputs: n.inputs.map((i) => (nowFloat.has(i) ? halfInput(i) : i)) });
      continue;
    }
    const inputs = n.inputs.map((i) => (i !== "" && isHalf(i) && !nowFloat.has(i) ? fp32Input(i) : i));
    for (const o of n.outputs) {
      if (!isHalf(o)) continue;
      widen(o);
      nowFloat.add(o);
    }
    out.push({ ...n, inputs });
  }
  // The graph's outputs keep their declared type: a Cast back after the last fp32 producer.
  for (const o of ctx.outputs) {
    if (!nowFloat.has(o)) continue;
    const from = `${o} (fp32)`;
    for (const n of out) n.outputs = n.outputs.map((x) => (x === o ? from : x));
    for (const n of out) n.inputs = n.inputs.map((x) => (x === o ? from : x));
    const x = t(o)!;
    tensors.set(from, { ...x, name: from });
    tensors.set(o, { ...x, dtype: "float16", bytes: x.bytes / 2 });
    out.push({ name: `InsertedPrecisionFreeCast_${o}`, op: "Cast", inputs: [from], outputs: [o], attrs: {} });
  }
  return { nodes: dropCastsOnlyCastsRead(out, ctx), extraConstantBytes, widened, widenedBytes };
}

/**
 * RemoveDuplicateCastTransformer's last rule (insert_cast_transformer.cc): a Cast that is not a graph
 * output and whose every reader is a Cast is removed, and those readers read its input (their input type
 * becomes its input's). The pairs that cancel are already gone here, so what is left are the graph outputs'
 * Casts: a Cast to fp16 after an fp32 producer, read only by the file's Cast to fp32 of a graph output,
 * leaves that Cast copying fp32 to fp32 (imgly-medium: 12, as in ORT's optimized graph).
 */
function dropCastsOnlyCastsRead(nodes: OrtNode[], ctx: RewriteContext): OrtNode[] {
  const readers = new Map<string, OrtNode[]>();
  for (const n of nodes) for (const i of n.inputs) if (i !== "") readers.set(i, [...(readers.get(i) ?? []), n]);
  const dropped = new Set<OrtNode>();
  for (const n of nodes) {
    const [src, dst] = [n.inputs[0], n.outputs[0]];
    if (n.op !== "Cast" || !src || !dst || ctx.outputs.has(dst)) continue;
    const rs = readers.get(dst) ?? [];
    if (rs.length === 0 || !rs.every((r) => r.op === "Cast" && !dropped.has(r))) continue;
    for (const r of rs) r.inputs = r.inputs.map((i) => (i === dst ? src : i));
    readers.set(src, [...(readers.get(src) ?? []).filter((r) => r !== n), ...rs]);
    dropped.add(n);
  }
  return nodes.filter((n) => !dropped.has(n));
}

/**
 * InsertCastTransformer's ForceSingleNodeCPUFloat16ToFloat32 (IsIsolatedFp16NodeOnCpu): a node with a
 * half-precision kernel whose half inputs all come from nodes that run in fp32, and whose half outputs all
 * go to such nodes, runs in fp32 too, saving the Cast pair around it. Not for a node fed only by graph
 * inputs or initializers, or one that writes a graph output. Decided in node order, each forced node
 * counting as an fp32 one for the next (imgly-medium: its Concats between Convs run in fp32).
 */
function isolatedHalfNodes(ctx: RewriteContext, isHalf: (name: string) => boolean): Set<OrtNode> {
  const producer = new Map<string, OrtNode>();
  const consumers = new Map<string, OrtNode[]>();
  for (const n of ctx.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i !== "") consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const forced = new Set<OrtNode>();
  const runsFp32 = (n: OrtNode) => !HALF_KERNELS.has(n.op) || forced.has(n);
  for (const n of ctx.nodes) {
    if (!HALF_KERNELS.has(n.op) || n.op === "If" || n.op === "Loop" || n.op === "Scan") continue;
    if (n.outputs.some((o) => ctx.outputs.has(o))) continue;
    const fed = n.inputs.filter((i) => i !== "" && producer.has(i));
    if (fed.length === 0) continue;
    const halfIn = fed.filter(isHalf);
    const halfOut = n.outputs.filter((o) => o !== "" && isHalf(o));
    if (halfIn.length === 0 && n.inputs.every((i) => !isHalf(i))) continue;
    if (halfOut.length === 0) continue;
    if (!halfIn.every((i) => runsFp32(producer.get(i)!))) continue;
    if (!halfOut.every((o) => (consumers.get(o) ?? []).every(runsFp32))) continue;
    forced.add(n);
  }
  return forced;
}
