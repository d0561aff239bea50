/**
 * The parameters and buffers eager PyTorch holds for a graph in training, per eager op: the float
 * initializers the op's nodes read (a Conv with a BatchNorm folded in has the conv weight plus the BN's
 * weight and bias as parameters and its running mean/var and num_batches_tracked as buffers; the exporter's
 * folded bias is not a parameter), and, with LoRA, the adapters (rank r: A is r x in, B is out x r) on every
 * Linear (a MatMul or Gemm with a 2-D weight initializer), the base weights frozen. nn.MultiheadAttention's
 * projections are left out: its forward reads in_proj_weight and out_proj.weight directly, bypassing any
 * wrapper a LoRA library puts around a Linear.
 */
import { byteSize, isFloat } from "../../graph/dtype.js";
import type { Model } from "../../graph/ir.js";
import { foldedBatchNorm, type EagerProgram } from "../torch/eager.js";

export interface TrainParam {
  /** Index of the eager op that reads it. */
  op: number;
  elements: number;
  /** Bytes as stored (fp32 master weights; QLoRA's 4-bit base weights are packed). */
  bytes: number;
  trainable: boolean;
  /** other: a parameter autocast leaves fp32 (an LLM's norm scales and embeddings): no half copy. */
  what: "weight" | "bn" | "lora" | "buffer" | "other";
  /** LoRA's A (in -> r) and B (r -> out) matrices: which one, and the layer's out features. */
  lora?: { part: "A" | "B"; rank: number; outFeatures: number };
  /** A 4-bit base weight: dequantized to the compute type for each matmul (elements x 2 bytes, transient). */
  quantized?: boolean;
}

export interface ParamOptions {
  loraRank?: number;
  /** QLoRA: the LoRA-targeted base weights are NF4 with double quantization (bitsandbytes). */
  qlora?: boolean;
}

/**
 * NF4 with double quantization: 4 bits per weight, one 8-bit absmax per 64-weight block, and one fp32
 * absmax (plus offset) per 256 blocks for those (bitsandbytes' defaults as used by QLoRA).
 */
/** nn.MultiheadAttention's projection parameters, as exports name them. */
const MHA_PROJECTION = /(in_proj_(weight|bias)|out_proj\.(weight|bias))$/;

export function nf4Bytes(elements: number): number {
  const blocks = Math.ceil(elements / 64);
  return Math.ceil(elements / 2) + blocks + Math.ceil(blocks / 256) * 8;
}

export function trainParams(model: Model, prog: EagerProgram, opts: ParamOptions = {}): TrainParam[] {
  const inits = model.graph.initializers;
  const seen = new Set<string>();
  // The TorchScript exporter stores equal initializers once and gives the others as Identity nodes of it
  // (a fresh model's BatchNorm ones and zeros): each is still its own parameter in eager.
  const identity = new Map<string, string>();
  for (const n of model.graph.nodes) if (n.opType === "Identity" && n.inputs[0] && n.outputs[0]) identity.set(n.outputs[0], n.inputs[0]);
  const initializer = (name: string) => {
    let at = name;
    for (let hops = 0; hops < 16 && !inits.has(at) && identity.has(at); hops++) at = identity.get(at)!;
    return inits.get(at);
  };
  const out: TrainParam[] = [];
  const lora = opts.loraRank !== undefined && opts.loraRank > 0;
  // Modules whose ops read nn.MultiheadAttention's projections: exports may rename (and pre-transpose) a
  // weight, but a bias or another op of the module keeps the name.
  const attentionModules = new Set(prog.ops.filter((op) => (op.nodes ?? []).some((n) => n.inputs.some((x) => MHA_PROJECTION.test(x)))).map((op) => op.path.join("/")));
  prog.ops.forEach((op, i) => {
    const attention = attentionModules.has(op.path.join("/"));
    for (const n of op.nodes ?? []) {
      const folded = n.opType === "Conv" && foldedBatchNorm(n, inits);
      n.inputs.forEach((name, k) => {
        const t = initializer(name);
        if (!t || !isFloat(t.dtype) || t.elements <= 1) return;
        // Every BatchNorm has its own parameters and buffers, even where the exporter stored equal constants
        // (a freshly initialised model's ones and zeros) once.
        if (n.opType === "BatchNormalization" && k >= 1) {
          // scale and bias are parameters; the running mean and variance are buffers.
          out.push({ op: i, elements: t.elements, bytes: byteSize(t.dtype, t.elements), trainable: k <= 2 && !lora, what: k <= 2 ? "bn" : "buffer" });
          if (k === 4) out.push({ op: i, elements: 1, bytes: 8, trainable: false, what: "buffer" }); // num_batches_tracked
          return;
        }
        if (seen.has(name)) return;
        seen.add(name);
        if (folded && k === 2) return; // the BN shift folded into a conv bias: BN's own bias is counted below
        const linear = (n.opType === "MatMul" || n.opType === "Gemm") && t.dims.length === 2 && k === 1 && !attention;
        const bytes = byteSize(t.dtype, t.elements);
        if (lora && linear) {
          // MatMul's weight is [in, out]; Gemm's [out, in] when transB is set.
          const transB = n.opType === "Gemm" && n.attrs["transB"]?.type === "int" && n.attrs["transB"].value === 1;
          const [inF, outF] = (transB ? [t.dims[1], t.dims[0]] : [t.dims[0], t.dims[1]]) as [number, number];
          out.push({ op: i, elements: t.elements, bytes: opts.qlora ? nf4Bytes(t.elements) : bytes, trainable: false, what: "weight", ...(opts.qlora ? { quantized: true } : {}) });
          const r = opts.loraRank!;
          out.push({ op: i, elements: r * inF, bytes: byteSize("float32", r * inF), trainable: true, what: "lora", lora: { part: "A", rank: r, outFeatures: outF } });
          out.push({ op: i, elements: r * outF, bytes: byteSize("float32", r * outF), trainable: true, what: "lora", lora: { part: "B", rank: r, outFeatures: outF } });
          return;
        }
        out.push({ op: i, elements: t.elements, bytes, trainable: !lora, what: "weight" });
      });
      if (folded) {
        const c = inits.get(n.inputs[1] ?? "")?.dims[0];
        if (c === undefined) continue;
        for (let k = 0; k < 2; k++) out.push({ op: i, elements: c, bytes: c * 4, trainable: !lora, what: "bn" });
        for (let k = 0; k < 2; k++) out.push({ op: i, elements: c, bytes: c * 4, trainable: false, what: "buffer" });
        out.push({ op: i, elements: 1, bytes: 8, trainable: false, what: "buffer" });
      }
    }
  });
  return out;
}
