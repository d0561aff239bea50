/**
 * cuDNN workspaces of a convolution's backward: the data-gradient and weight-gradient calls each allocate their
 * own through the caching allocator and free it on return, like the forward's (src/memory/torch/cudnn.ts).
 *
 * Measured in the one backward trace there is (../shared/groundtruth/h200-torch2.11.json, resnet50 batch 32
 * fp32 Adam, H200, cuDNN 9.19: every allocation of a training step in order), per convolution:
 * - spatial kernels (3x3, the 7x7 stem): the data gradient's workspace is the forward's transposed copies
 *   (input + output + filter, to the byte at all 16 3x3 convs), the weight gradient's that plus a few filters'
 *   worth of split-K partial sums (1.6 to 15 x the filter): taken as the forward's for both;
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
import { byteSize, isFloat } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";

/**
 * The workspace of a convolution's data- and weight-gradient calls (each its own allocation): the forward's,
 * and for a strided 1x1 convolution its input plus its output. `forward` is the forward call's workspace,
 * `dtype` the activation type where it differs from the graph's (autocast, --dtype).
 */
export function convBackwardWorkspace(conv: Node, values: Map<string, TensorInfo>, forward: number, dtype: DType | undefined): number {
  const x = values.get(conv.inputs[0] ?? "");
  const w = values.get(conv.inputs[1] ?? "");
  const y = values.get(conv.outputs[0] ?? "");
  const xs = concrete(x?.shape);
  const ws = concrete(w?.shape);
  const ys = concrete(y?.shape);
  if (!x?.dtype || !xs || !ws || !ys || xs.length !== 4 || ws.length !== 4 || ys.length !== 4) return forward;
  const group = conv.attrs["group"]?.type === "int" ? conv.attrs["group"].value : 1;
  const strides = conv.attrs["strides"];
  const strided = strides?.type === "ints" && strides.value.some((s) => s > 1);
  if (ws[2] !== 1 || ws[3] !== 1 || group !== 1 || !strided) return forward;
  const t = dtype && isFloat(x.dtype) ? dtype : x.dtype;
  return Math.max(forward, byteSize(t, numel(xs)) + byteSize(t, numel(ys)));
}

function concrete(shape: TensorInfo["shape"] | undefined): number[] | undefined {
  return shape && shape.every((d) => typeof d === "number") ? (shape as number[]) : undefined;
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
