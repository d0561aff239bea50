/**
 * cuDNN convolution workspace: scratch the chosen algorithm allocates through the caching allocator while
 * the convolution runs (so it counts in max_memory_allocated), freed when the call returns.
 *
 * The model (cudnn.benchmark off, cuDNN 9 heuristics on an NCHW model): a dense convolution with a spatial
 * kernel (3x3, 7x7) and a wide input (>= 64 channels), or an image stem (<= 4 channels) with a large kernel
 * (7x7 and up: resnet's and densenet's stems, vit's 16x16 patches), runs an implicit-GEMM engine that
 * transposes its operands into channels-last scratch, so its workspace is its input plus its output.
 * 3x3 stems (mobilenet_v2, efficientnet, vgg16's conv1_1), 1x1 convolutions (plain GEMMs over NCHW), thin
 * (8-32 channel), grouped and depthwise convolutions take engines with no workspace. Where this comes from,
 * all in ../shared/groundtruth/h200-torch2.11.json:
 * - vgg16 (conv1_2: 64 -> 64 channels at 224x224): the measured peak is the live tensors plus exactly its
 *   input + output, fp32 and fp16, batch 8 to 128;
 * - resnet18 (stem: 3 -> 64, 7x7): live + input + output matches the peak to 0.1% at batch 32 and 128;
 * - resnet50's peak (at its 1x1 convolutions) is the live tensors alone at fp32 batch 32 and 128;
 * - mobilenet_v2 / efficientnet_b0 (expand 1x1: 16 -> 96 at 112x112): the peak is the live tensors alone;
 * - the mobilenet_v2 trace (batch 32, fp32, every allocation of a forward in order) has no workspace at the
 *   3x3 stem, 400 bytes at most depthwise convolutions, and input + output + 16 bytes at only three 1x1
 *   convolutions (384 -> 64 channels at 14x14; not 384 -> 96 at the same size): the simulated forward
 *   allocates the same 116 sizes in the same order apart from those (some frees come in another order: a
 *   block's input dies after its last conv's BatchNorm has allocated, not before; simulating that order
 *   changes no mobilenet number and breaks densenet's, so it is left). 3x3 stems without workspace
 *   brought the reserved median from 2.1% to 0.8% and passed the leave-one-model-out check
 *   (bench/accuracy-lomo.ts: each model held out, the other six chose it, no held-out median worse).
 * The workspace is allocated per call (aten/src/ATen/native/cudnn/Conv_v8.cpp, run_conv_plan), only when the
 * engine needs one, so each run's `allocation.all.allocated` in the ground truth counts them: weights, input
 * and three forwards' tensors known, the rest are workspaces. Per forward, of resnet18's 20 convolutions 17
 * allocate one at batch 1 and 19 at batch 8-128; resnet50 (53): 40, 25, 44, 50 at batch 1/8/32/128;
 * mobilenet_v2: 11, 5, 14, 22 (400-byte ones); vgg16: 12 of 13 at every batch (counting max_pool2d's
 * int64 indices, see below). The engine choice changes with the batch, and so do the workspaces.
 * Known misses, measured against the peaks to the byte:
 * - vgg16 conv1_2: the workspace is input + output + filter (+ at most 512 B) at fp32 batch 8-128 and fp16
 *   batch 1/32/128, but input + filter only at fp32 batch 1 (this model: +33%);
 * - resnet18's stem at batch 1 takes 3 MiB more than input + output at fp32 (-21%) and 1.5 MiB more at fp16 (-31%);
 *   at fp16 batch 8-128 (-3%) the peaks and reserved fit to 0.4% when two things are counted together: the
 *   int64 indices max_pool2d allocates for its call on CUDA (aten/src/ATen/native/Pooling.cpp: it runs
 *   max_pool2d_with_indices; vgg16's allocation counts confirm it) and a stem workspace that reads the input
 *   padded to 4 channels, plus the filter. The indices alone move resnet18 fp16's reserved peak the wrong way
 *   (+34%), and the padding is not confirmed by the other models, so neither is simulated yet;
 * - resnet50's peak (layer1.0's 1x1 downsample, 64 -> 256 channels) holds a workspace the size of its input
 *   at fp16 (every batch, +512 B) and fp32 batch 8, none at fp32 batch 32/128 (-5% to -7%, -15% at batch 1).
 * These rules were tried and not adopted: each fits one model and the others do not confirm it in a
 * leave-one-model-out check (bench/accuracy-lomo.ts). The per-call numbers would settle them:
 * bench/accuracy-workspaces.py measures them on a GPU.
 *
 * With cudnn.benchmark on, PyTorch (Conv_v8.cpp, get_plans_from_find) builds every engine the heuristics and
 * the fallback list offer, allocates one workspace as large as the largest of them, times them all, frees it
 * and empties the cache, then runs the fastest with its own workspace. So the allocator's peak also holds the
 * largest workspace of any engine. Here it is bounded by cuDNN's FFT engine (operands transformed to the
 * frequency domain as complex64 planes padded to a power of two); the measured seed row needs about twice that
 * (mobilenet_v2, batch 32: max_allocated 966 MiB against 564 MiB predicted), from engines whose workspaces are
 * not known here.
 */
import type { DType } from "../../graph/dtype.js";
import { byteSize, isFloat } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";

export interface ConvWorkspaceOptions {
  /** The --dtype cast of float tensors (model.to(dtype)), if any. */
  dtype: DType | undefined;
}

/** Input channels at or above which heuristics pick a channels-last engine. */
const WIDE_INPUT_CHANNELS = 64;
/** Image stems (RGB, RGBA) with a kernel this large (7x7) or larger take the channels-last engine too. */
const STEM_MAX_CHANNELS = 4;
const STEM_MIN_KERNEL_AREA = 49;

export function convWorkspace(conv: Node, values: Map<string, TensorInfo>, opts: ConvWorkspaceOptions): number {
  const x = values.get(conv.inputs[0] ?? "");
  const w = values.get(conv.inputs[1] ?? "");
  const y = values.get(conv.outputs[0] ?? "");
  const xShape = concrete(x?.shape);
  const wShape = concrete(w?.shape);
  const yShape = concrete(y?.shape);
  if (!x?.dtype || !xShape || !wShape || !yShape || xShape.length !== 4 || yShape.length !== 4) return 0;
  const dtype = opts.dtype && isFloat(x.dtype) ? opts.dtype : x.dtype;
  const group = conv.attrs["group"]?.type === "int" ? conv.attrs["group"].value : 1;
  const cin = xShape[1]!;
  const inBytes = byteSize(dtype, numel(xShape));
  const outBytes = byteSize(dtype, numel(yShape));
  const kernelArea = (wShape[2] ?? 1) * (wShape[3] ?? 1);
  const stem = cin <= STEM_MAX_CHANNELS && kernelArea >= STEM_MIN_KERNEL_AREA;
  return group === 1 && kernelArea > 1 && (cin >= WIDE_INPUT_CHANNELS || stem) ? inBytes + outBytes : 0;
}

/**
 * cudnn.benchmark: the largest workspace among the engines PyTorch times for this configuration, allocated
 * once while it benchmarks. Bounded by the FFT engine (stride 1, dense convolutions); 0 for convolutions FFT
 * does not run (strided, grouped).
 */
export function benchmarkTrialWorkspace(conv: Node, values: Map<string, TensorInfo>): number {
  const xShape = concrete(values.get(conv.inputs[0] ?? "")?.shape);
  const wShape = concrete(values.get(conv.inputs[1] ?? "")?.shape);
  const yShape = concrete(values.get(conv.outputs[0] ?? "")?.shape);
  if (!xShape || !wShape || !yShape || xShape.length !== 4 || wShape.length !== 4) return 0;
  const group = conv.attrs["group"]?.type === "int" ? conv.attrs["group"].value : 1;
  const strides = conv.attrs["strides"];
  const strided = strides?.type === "ints" && strides.value.some((v) => v !== 1);
  return group === 1 && !strided ? fftWorkspace(xShape, wShape, yShape) : 0;
}

/** The key cuDNN's and PyTorch's benchmark cache use: shapes and convolution parameters. */
export function convConfigKey(conv: Node, values: Map<string, TensorInfo>): string {
  const shape = (n: string) => (values.get(n)?.shape ?? []).map(String).join("x");
  const a = (k: string) => {
    const v = conv.attrs[k];
    return v?.type === "ints" ? v.value.join(",") : v?.type === "int" ? String(v.value) : "";
  };
  return [shape(conv.inputs[0] ?? ""), shape(conv.inputs[1] ?? ""), a("strides"), a("pads"), a("dilations"), a("group")].join("|");
}

/**
 * FFT convolution scratch: input, filter and output planes (N*Cin, Cout*Cin, N*Cout) as complex64 over the
 * padded frame (H + kh - 1 rounded up to a power of two, and half of W's, plus one: a real-to-complex FFT).
 */
export function fftWorkspace(x: number[], w: number[], y: number[]): number {
  const [n, cin, h, wd] = x as [number, number, number, number];
  const [cout, , kh, kw] = w as [number, number, number, number];
  const fh = pow2(h + kh - 1);
  const fw = pow2(wd + kw - 1);
  const plane = fh * (fw / 2 + 1) * 8;
  return (n * cin + cout * cin + n * (y[1] ?? cout)) * plane;
}

function pow2(v: number): number {
  let p = 1;
  while (p < v) p *= 2;
  return p;
}

function concrete(shape: TensorInfo["shape"]): number[] | undefined {
  if (!shape || !shape.every((d) => typeof d === "number")) return undefined;
  return shape as number[];
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
