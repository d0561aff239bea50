/**
 * Kernel scratch: buffers an ORT CPU kernel takes from OpKernelContext::GetTempSpaceAllocator while it
 * runs. On the CPU provider that allocator is the session's BFC arena, so the scratch lands in the arena
 * next to the planned tensors, but it is not a planned value: the memory pattern never traces it, and
 * every run asks the arena for it again (on the second run, while the pattern's block is held).
 *
 * One table (SCRATCH), one entry per kernel, each naming the onnxruntime source it follows. Sizes are the
 * largest single temporary the kernel holds (buffers it frees before taking the next are not summed).
 */
import type { OrtNode, OrtTensor } from "./types.js";
import { elementCount } from "../../graph/element-count.js";

type Tensors = (name: string) => OrtTensor | undefined;

export interface ScratchRule {
  /** The onnxruntime source file the rule follows. */
  source: string;
  bytes: (node: OrtNode, tensor: Tensors) => number;
}

/** MLAS_CONV_WORKING_BUFFER_SIZE_PER_THREAD (mlas/lib/mlasi.h), in floats. */
const MLAS_CONV_SEGMENT_FLOATS = 16384;
/** The intra-op threads of onnxruntime-node's sessions here (and so MLAS's maximum thread count). */
const THREADS = 2;

const shapeOf = (tensor: Tensors, name: string | undefined) => (name ? tensor(name)?.shape : undefined);
const elements = (s: readonly number[] | undefined) => (s ? elementCount(s) : 0);
const ints = (n: OrtNode, k: string): number[] | undefined => (n.attrs[k]?.type === "ints" ? (n.attrs[k] as { value: number[] }).value : undefined);
const int = (n: OrtNode, k: string, d: number): number => (n.attrs[k]?.type === "int" ? (n.attrs[k] as { value: number }).value : d);

interface ConvGeometry {
  batch: number;
  groups: number;
  /** Input channels per group times the kernel's size (MLAS's K). */
  k: number;
  /** Output positions per image (MLAS's OutputSize). */
  outputSize: number;
  /** Filters per group. */
  filters: number;
  /** Strides all 1 and no padding (and no dilation). */
  plain: boolean;
  kernelSize: number;
}

function convGeometry(n: OrtNode, tensor: Tensors): ConvGeometry | undefined {
  const x = shapeOf(tensor, n.inputs[0]);
  const w = shapeOf(tensor, n.inputs[1]);
  const y = shapeOf(tensor, n.outputs[0]);
  if (!x || !w || !y || w.length < 3 || y.length !== w.length) return undefined;
  const groups = int(n, "group", 1);
  const kernelSize = elements(w.slice(2));
  const plain = (ints(n, "strides") ?? []).every((s) => s === 1) && (ints(n, "pads") ?? []).every((p) => p === 0) &&
    (ints(n, "dilations") ?? []).every((d) => d === 1) && (n.attrs["auto_pad"]?.type !== "string" || ["NOTSET", "VALID"].includes((n.attrs["auto_pad"] as { value: string }).value));
  return { batch: x[0]!, groups, k: w[1]! * kernelSize, outputSize: elements(y.slice(2)), filters: w[0]! / groups, plain, kernelSize };
}

/**
 * Float Conv off the NCHWc path (core/providers/cpu/nn/conv.cc -> MlasConvPrepare, mlas/lib/convolve.cpp):
 * pointwise with unit strides and no padding reads the input in place; more filters than output positions
 * expand the whole image (OutputSize x K floats); otherwise the expansion is segmented per thread (16384
 * floats each). Newer MLAS sizes the segmented buffer by the whole image when there is a batch or groups;
 * the measurements of onnxruntime 1.30 here (melspectrogram's batched STFT Conv: run 1 grows by 21.8 MiB,
 * 23.3 modelled without that buffer, 24.9 with it) say its MLAS does not, so that is not modelled.
 */
const mlasConv: ScratchRule = {
  source: "onnxruntime/core/mlas/lib/convolve.cpp (MlasConvPrepare), via core/providers/cpu/nn/conv.cc",
  bytes(n, tensor) {
    const g = convGeometry(n, tensor);
    if (!g) return 0;
    if (g.plain && g.kernelSize === 1) return 0;
    if (g.filters > g.outputSize) return 4 * g.outputSize * g.k;
    return 4 * THREADS * MLAS_CONV_SEGMENT_FLOATS;
  },
};

/** ConvInteger (core/providers/cpu/quantization/conv_integer.cc): an im2col buffer of the 8-bit input,
 *  (C / group) x kernel x output positions bytes, unless the convolution is pointwise with unit strides. */
const convInteger: ScratchRule = {
  source: "onnxruntime/core/providers/cpu/quantization/conv_integer.cc",
  bytes(n, tensor) {
    const g = convGeometry(n, tensor);
    if (!g || (g.plain && g.kernelSize === 1)) return 0;
    return g.k * g.outputSize;
  },
};

/** QLinearConv (core/providers/cpu/quantization/qlinearconv.cc): an int32 GEMM output of one image
 *  (filters x output positions) before requantizing, outside the symmetric path. */
const qlinearConv: ScratchRule = {
  source: "onnxruntime/core/providers/cpu/quantization/qlinearconv.cc",
  bytes(n, tensor) {
    const g = convGeometry(n, tensor);
    return g ? 4 * g.filters * g.groups * g.outputSize : 0;
  },
};

/** DynamicQuantizeMatMul (contrib_ops/cpu/quantization/dynamic_quantize_matmul.cc): A quantized to 8 bits
 *  in a temporary of A's element count. MatMulInteger reads 8-bit A as it is. */
const dynamicQuantizeMatMul: ScratchRule = {
  source: "onnxruntime/contrib_ops/cpu/quantization/dynamic_quantize_matmul.cc",
  bytes: (n, tensor) => elements(shapeOf(tensor, n.inputs[0])),
};

/** LSTM/GRU/RNN (core/providers/cpu/rnn/deep_cpu_lstm.cc, deep_cpu_gru.cc, rnn.cc): the gate pre-activations
 *  of the whole sequence, seq x batch x gates x hidden floats per direction, from the arena. */
const recurrent = (gates: number, source: string): ScratchRule => ({
  source,
  bytes(n, tensor) {
    const x = shapeOf(tensor, n.inputs[0]);
    const hidden = int(n, "hidden_size", 0);
    if (!x || x.length !== 3 || hidden === 0) return 0;
    const layout = int(n, "layout", 0);
    const [seq, batch] = layout === 0 ? [x[0]!, x[1]!] : [x[1]!, x[0]!];
    const directions = n.attrs["direction"]?.type === "string" && (n.attrs["direction"] as { value: string }).value === "bidirectional" ? 2 : 1;
    return 4 * seq * batch * gates * hidden * directions;
  },
});

/** Attention (contrib_ops/cpu/bert/attention.cc, attention_cpu_base.h): Q, K and V projected into one
 *  temporary (batch x seq x 3 x hidden floats), then the scores (batch x heads x seq x total seq). */
const attention: ScratchRule = {
  source: "onnxruntime/contrib_ops/cpu/bert/attention.cc, attention_cpu_base.h",
  bytes(n, tensor) {
    const x = shapeOf(tensor, n.inputs[0]);
    const w = shapeOf(tensor, n.inputs[1]);
    const heads = int(n, "num_heads", 0);
    if (!x || x.length !== 3 || !w || heads === 0) return 0;
    const [batch, seq] = [x[0]!, x[1]!];
    return 4 * (batch * seq * w[w.length - 1]! + batch * heads * seq * seq);
  },
};

/** Einsum (core/providers/cpu/math/einsum.cc, einsum_utils): operands transposed and reshaped into
 *  temporaries before the batched MatMul: up to their own sizes. */
const einsum: ScratchRule = {
  source: "onnxruntime/core/providers/cpu/math/einsum_utils/einsum_compute_preprocessor.cc",
  bytes: (n, tensor) => n.inputs.reduce((a, i) => a + (tensor(i)?.bytes ?? 0), 0),
};

/** Resize/Upsample in linear/cubic modes (core/providers/cpu/tensor/upsamplebase.h, upsample.cc): per output
 *  row and column, the source indices and weights (two int64 and two float each). */
const resize: ScratchRule = {
  source: "onnxruntime/core/providers/cpu/tensor/upsample.cc",
  bytes(n, tensor) {
    const mode = n.attrs["mode"]?.type === "string" ? (n.attrs["mode"] as { value: string }).value : "nearest";
    const y = shapeOf(tensor, n.outputs[0]);
    if (mode === "nearest" || !y || y.length < 2) return 0;
    return 24 * (y[y.length - 1]! + y[y.length - 2]!);
  },
};

export const SCRATCH: Readonly<Record<string, ScratchRule>> = {
  Conv: mlasConv,
  "ms.FusedConv": mlasConv,
  ConvInteger: convInteger,
  QLinearConv: qlinearConv,
  "ms.DynamicQuantizeMatMul": dynamicQuantizeMatMul,
  LSTM: recurrent(4, "onnxruntime/core/providers/cpu/rnn/deep_cpu_lstm.cc"),
  GRU: recurrent(3, "onnxruntime/core/providers/cpu/rnn/deep_cpu_gru.cc"),
  RNN: recurrent(1, "onnxruntime/core/providers/cpu/rnn/rnn.cc"),
  "ms.Attention": attention,
  Einsum: einsum,
  Resize: resize,
  Upsample: resize,
  // contrib_ops/cpu/bert/bias_gelu.cc (BiasGelu, and FastGelu when given a bias): one temporary of the input's
  // element count holds 0.5 * (x + bias) while the output holds erf/tanh of it. FastGelu without a bias takes none.
  "ms.BiasGelu": { source: "onnxruntime/contrib_ops/cpu/bert/bias_gelu.cc", bytes: biasGelu },
  "ms.FastGelu": { source: "onnxruntime/contrib_ops/cpu/bert/bias_gelu.cc", bytes: biasGelu },
};

function biasGelu(node: OrtNode, tensor: Tensors): number {
  const bias = node.inputs[1];
  if (bias === undefined || bias === "") return 0;
  return tensor(node.inputs[0] ?? "")?.bytes ?? 0;
}

/** Bytes of scratch the node's kernel allocates from the arena while it runs (0: none). */
export function kernelScratchBytes(node: OrtNode, tensors: ReadonlyMap<string, OrtTensor>): number {
  const rule = SCRATCH[node.op];
  return rule ? rule.bytes(node, (name) => tensors.get(name)) : 0;
}
