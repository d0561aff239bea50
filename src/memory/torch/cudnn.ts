/**
 * cuDNN convolution workspace: scratch the chosen engine allocates through the caching allocator while the
 * convolution runs (so it counts in max_memory_allocated), freed when the call returns (aten/src/ATen/native/
 * cudnn/Conv_v8.cpp, run_conv_plan: one allocation of the plan's workspace size, only when it needs one).
 *
 * Measured, not guessed: bench/groundtruth/gpu-h200-torch2.11-torchvision.json.gz holds every Conv2d call of
 * 15 torchvision models (the 7 fixtures and 8 others) x fp32/fp16 x batch 1/8/32/128 on an H200 with
 * cudnn.benchmark off (bench/gpu/measure.py: the call's peak minus what was allocated before it minus its
 * output). The engines cuDNN 9's heuristics pick for an NCHW model mostly compute in channels-last and keep
 * transposed copies of their operands in the workspace: input (I), output (O) and filter (W). By class:
 * - fp16 (tensor-core engines; bf16 taken to behave alike, not measured), every dense or grouped spatial conv: I + O + W, at
 *   every batch and channel count (thin 16-48 channel convs included): 673 of the 804 such calls within 2 kB,
 *   and the workspaces sum to 1.00 x I+O+W at each batch;
 * - fp32 (TF32 engines), which depends on the GEMM's rows M = N x OH x OW and the input channels:
 *   at least 64 channels (or grouped): from M = 4096, I + O + W (250 of 380 calls; the sum is 0.93 x I+O+W);
 *   below, a copy of one operand and the filter (I + W or O + W: 173 of 344; 61 keep all three), counted as
 *   max(I, O) + W (the sum is 1.24 x that); fewer than 64 channels: from M = 32768 I + O + W (12 of 20 calls,
 *   0.96 x in sum: inception_v3's 149x149 and 147x147 convs, squeezenet's at batch 128), below it nothing
 *   (36 of 60 calls under 8 kB; googlenet's and squeezenet's thin convs);
 *   64 -> 64 channels are the exception to the first: one operand and the filter below M = 2^18 (22 of 22 calls,
 *   vgg16's 224x224 conv at batch 1, resnet18's and resnet50's layer1 up to batch 32), all three above (10 of 10);
 * - image stems (<= 4 channels): none for 3x3 kernels and patchify convs (stride = kernel: convnext, swin)
 *   in every model and dtype; a 7x7 stem (resnet, densenet, googlenet) none at batch 1 and, from M = 32768
 *   (batch 8), I + O + W at fp32, at fp16 the input padded to 4 channels + O + W;
 * - 1x1 convolutions (plain GEMMs) and depthwise ones: none, or a split-K buffer this model does not know (see
 *   below).
 * Known misses, with the per-call numbers behind them:
 * - 1x1 convolutions with few output pixels run split-K GEMMs whose partial sums are a whole multiple of the
 *   output (8 to 32 x at batch 1: squeezenet's 512 -> 1000 classifier holds 8.4 MB, -42% of its batch-1 peak;
 *   resnet50's 1x1s -5% to -10%); the split count is the heuristics' choice. Strided 1x1s (resnet's
 *   downsamples) and fp16 1x1s on 7x7 maps mostly keep I + O; counting that was tried and left out: the
 *   activation peaks' worst moved from 9.6% to 8.0% but reserved peaks' worst from 15.9% to 31.5%;
 * - inception_v3 fp32 batch 1 (-17%): its 32-channel convs at M = 21609 keep I + O, below the thin threshold;
 * - some calls add a few hundred kB over the transposed copies (split-K on top of the transform); not modelled.
 * Before this measurement the rule was "I + O for >= 64 channels" (fitted on the ground truth's peaks alone):
 * it missed fp16's thin convs (squeezenet -34%), grouped convs (regnet -15%), the filter copy (resnet18 batch
 * 1 -21%/-31%) and fp32's large thin convs (inception -17%).
 *
 * With cudnn.benchmark on, PyTorch (Conv_v8.cpp, get_plans_from_find) times every engine the heuristics and
 * the fallback list offer, with one workspace as large as the largest of them, and empties the cache after:
 * cudnn-benchmark.ts.
 */
import type { DType } from "../../graph/dtype.js";
import { byteSize } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";
import { convCall } from "./conv-call.js";
import { elementCount } from "../../graph/element-count.js";

export interface ConvWorkspaceOptions {
  /** The --dtype cast of float tensors (model.to(dtype)), if any. */
  dtype: DType | undefined;
}

/** fp32: input channels from which the engines transpose the filter at any size. */
const WIDE_INPUT_CHANNELS = 64;
/** fp32, >= 64 channels: GEMM rows (N x OH x OW) from which the engines keep all three copies. */
const WIDE_ALL_OPERANDS_ROWS = 4096;
/** fp32, 64 -> 64 channels: GEMM rows below which the engines keep one operand and the filter. */
const SQUARE_64_ONE_OPERAND_ROWS = 1 << 18;
/** fp32 thin convs and image stems: GEMM rows from which they take a channels-last engine at all. */
const THIN_WORKSPACE_ROWS = 32768;
/** Image stems (RGB, RGBA); the fp16 engines pad them to this many channels. */
const STEM_MAX_CHANNELS = 4;
/** Stems with a kernel this large (7x7) or larger take a workspace. */
const STEM_MIN_KERNEL_AREA = 49;

export function convWorkspace(conv: Node, values: Map<string, TensorInfo>, opts: ConvWorkspaceOptions): number {
  const call = convCall(conv, values, opts.dtype);
  if (!call) return 0;
  const { x: xShape, w: wShape, y: yShape, group, dtype } = call;
  const [n, cin] = xShape as [number, number];
  const [, , kh, kw] = wShape as [number, number, number, number];
  const [, , oh, ow] = yShape as [number, number, number, number];
  if (kh * kw === 1 || (group > 1 && group === cin)) return 0;
  const I = byteSize(dtype, elementCount(xShape));
  const O = byteSize(dtype, elementCount(yShape));
  const W = byteSize(dtype, elementCount(wShape));
  const rows = n * oh * ow;
  const half = byteSize(dtype, 1) === 2;
  if (cin <= STEM_MAX_CHANNELS) {
    const [sh, sw] = call.strides as [number, number];
    const patchify = sh >= kh && sw >= kw;
    if (kh * kw < STEM_MIN_KERNEL_AREA || patchify || rows < THIN_WORKSPACE_ROWS) return 0;
    return (half ? (I / cin) * STEM_MAX_CHANNELS : I) + O + W;
  }
  if (half) return I + O + W;
  // 64 -> 64 channels (vgg16's first block, resnet's layer1) keep one operand until M = 2^18 rows.
  if (group === 1 && cin === WIDE_INPUT_CHANNELS && wShape[0] === cin && rows < SQUARE_64_ONE_OPERAND_ROWS) return Math.max(I, O) + W;
  if (cin >= WIDE_INPUT_CHANNELS || group > 1) return rows >= WIDE_ALL_OPERANDS_ROWS ? I + O + W : Math.max(I, O) + W;
  return rows >= THIN_WORKSPACE_ROWS ? I + O + W : 0;
}
