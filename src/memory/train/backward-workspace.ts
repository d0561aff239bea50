/**
 * cuDNN workspaces of a convolution's backward: the data-gradient and weight-gradient calls each allocate their
 * own through the caching allocator and free it on return, like the forward's (src/memory/torch/cudnn.ts).
 *
 * Measured in the one backward trace there is (bench/groundtruth/h200-torch2.11.json, resnet50 batch 32
 * fp32 Adam, H200, cuDNN 9.19: every allocation of a training step in order), per convolution:
 * - dense spatial kernels over 64 channels or more (all 16 3x3 convs, 64 to 512 channels, 7x7 to 56x56): the
 *   data gradient's workspace is transposed copies of all three operands, input + output + filter, to the
 *   byte, even where the forward keeps fewer (layer1's 3x3 forward: input + filter); the weight gradient's is
 *   that plus a few filters' worth of split-K partial sums (1.6 to 15 x the filter). Both taken as input +
 *   output + filter, or the forward's if larger;
 * - the 7x7 stem: no data gradient (the image needs none); its weight gradient holds input + output + 12 MB
 *   (the forward's, as taken here, is input + output + filter);
 * - 1x1 convolutions with stride 1 are plain GEMMs over NCHW: no data-gradient workspace, and weight-gradient
 *   scratch from 2 MiB to input + output + 8 MiB, with no rule across the 49 that fits (not modelled);
 * - 1x1 convolutions with a stride (ResNet's downsample projections): the forward is a GEMM over the strided
 *   input, but the gradients are not: the data gradient scatters into every stride-th pixel of the input's
 *   gradient and the weight gradient reads the input strided, so both run channels-last engines that hold
 *   input + output (to the byte at all three of resnet50's, 154, 77 and 39 MB at batch 32; the weight
 *   gradient's 4-8 MiB more). Where checkpointing puts the step's peak inside a block's backward, this is it:
 *   resnet50's layer2.0 downsample at batch 32 holds 154 MB, then 162 MB.
 */
import type { DType } from "../../graph/dtype.js";
import { byteSize } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";
import { convCall } from "../torch/conv-call.js";
import { elementCount } from "../../graph/element-count.js";

/** Input channels from which a dense spatial convolution's gradients were measured to hold all three operands. */
const WIDE_INPUT_CHANNELS = 64;

/**
 * The workspace of a convolution's data- and weight-gradient calls (each its own allocation): input + output +
 * filter for a dense spatial convolution over 64 channels or more, input + output for a strided 1x1 one, else
 * the forward's (`forward`, never less). `dtype` is the activation type where it differs from the graph's
 * (autocast, --dtype); half-precision backward workspaces are not measured, the same rule is taken in half bytes.
 */
export function convBackwardWorkspace(conv: Node, values: Map<string, TensorInfo>, forward: number, dtype: DType | undefined): number {
  const call = convCall(conv, values, dtype);
  if (!call || call.group !== 1) return forward;
  const { x: xs, w: ws, y: ys, dtype: t } = call;
  const strided = call.strides.some((s) => s > 1);
  const pointwise = ws[2] === 1 && ws[3] === 1;
  const io = byteSize(t, elementCount(xs)) + byteSize(t, elementCount(ys));
  if (!pointwise && xs[1]! >= WIDE_INPUT_CHANNELS) return Math.max(forward, io + byteSize(t, elementCount(ws)));
  if (pointwise && strided) return Math.max(forward, io);
  return forward;
}
