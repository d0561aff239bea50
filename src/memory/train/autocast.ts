/**
 * Automatic mixed precision (torch.autocast on CUDA) over an fp32 eager program: which activations are half
 * and which stay fp32, and the cast copies autocast makes. PyTorch's autocast op lists
 * (aten/src/ATen/autocast_mode.cpp; the "Autocast Op Reference" in its docs):
 * - lower precision: convolutions, matmul/mm/bmm/addmm/linear, scaled_dot_product_attention: fp32 inputs are
 *   cast to half first (a copy, which is what the op saves for backward);
 * - fp32: layer_norm, group_norm, softmax, log_softmax, pow, exp, log, sum, cumsum, the losses...: half inputs
 *   are cast up to fp32 and the result is fp32;
 * - everything else runs in its inputs' widest type, so adding an fp32 parameter (ViT's position embedding,
 *   an embedding lookup) or an fp32 residual stream makes fp32; batch_norm keeps its input's type. Type
 *   promotion casts element by element inside the kernel: no copy.
 * Parameters stay fp32 (their half copies are handled by the simulation: saved per conv/linear).
 */
import type { EagerAlloc, EagerOp, EagerProgram } from "../torch/eager.js";

const LOWER = new Set(["Conv", "ConvTranspose", "MatMul", "Gemm"]);
const FP32 = new Set(["LayerNormalization", "GroupNormalization", "InstanceNormalization", "Softmax", "LogSoftmax", "Pow", "Exp", "Log", "ReduceSum", "ReduceLogSumExp", "CumSum"]);

export interface AutocastProgram {
  program: EagerProgram;
  /** Per op: original storage read -> the cast copy the op reads (and saves) instead. */
  castReads: Map<string, string>[];
  /** Storages that are half. */
  half: Set<string>;
}

/**
 * `isFloat(id)`: whether a storage holds floating-point data (int64 indices are never cast);
 * `readsFp32Param(i)`: whether op i reads an fp32 parameter (an elementwise op then promotes to fp32).
 */
export function autocastProgram(prog: EagerProgram, isFloat: (id: string) => boolean, readsFp32Param: (i: number) => boolean): AutocastProgram {
  const half = new Set<string>();
  const bytes = new Map<string, number>();
  for (const op of prog.ops) for (const a of op.allocs) bytes.set(a.id, a.bytes);
  // A read nobody makes is a graph input; with one such input its size is the program's input bytes.
  const inputs = new Set(prog.ops.flatMap((op) => op.reads).filter((r) => !bytes.has(r)));
  if (inputs.size === 1) bytes.set([...inputs][0]!, prog.inputBytes);
  const freeAfter = new Map(prog.freeAfter);
  const castReads: Map<string, string>[] = [];
  const ops: EagerOp[] = prog.ops.map((op, i) => {
    const casts = new Map<string, string>();
    castReads.push(casts);
    const floats = op.reads.filter(isFloat);
    const anyFp32 = floats.some((r) => !half.has(r));
    const listed = op.opTypes.some((t) => LOWER.has(t) || FP32.has(t));
    const kind = op.opTypes.some((t) => LOWER.has(t)) ? "half" : op.opTypes.some((t) => FP32.has(t)) ? "float"
      : op.opTypes.includes("BatchNormalization") ? (floats.every((r) => half.has(r)) && floats.length > 0 ? "half" : "float")
      : anyFp32 || readsFp32Param(i) || floats.length === 0 ? "float" : "half";
    const copies: EagerAlloc[] = [];
    for (const r of listed ? floats : []) {
      const isHalf = half.has(r);
      if ((kind === "half") === isHalf) continue;
      const full = bytes.get(r) ?? 0;
      if (full === 0) continue;
      // The copy: half of an fp32 tensor, or fp32 of a half one (twice its bytes).
      const id = `${r}#${kind === "half" ? "half" : "fp32"}`;
      const size = kind === "half" ? Math.ceil(full / 2) : full * 2;
      copies.push({ id, bytes: size, transient: false, what: "copy" });
      casts.set(r, id);
      freeAfter.set(id, i);
      if (kind === "half") half.add(id);
    }
    const allocs = op.allocs.map((a) => {
      if (!isFloat(a.id.split("#")[0]!)) return a;
      if (kind === "half") {
        half.add(a.id);
        return { ...a, bytes: Math.ceil(a.bytes / 2) };
      }
      return a;
    });
    for (const a of allocs) bytes.set(a.id, a.bytes);
    // Views and in-place ops keep their input's storage, and so its type.
    return { ...op, allocs: [...copies, ...allocs] };
  });
  return { program: { ...prog, ops, freeAfter }, castReads, half };
}
