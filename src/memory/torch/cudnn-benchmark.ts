/**
 * cudnn.benchmark trial workspaces: the scratch PyTorch allocates once per new convolution configuration while
 * it times cuDNN's engines, which the first forward's max_memory_allocated holds on top of the live tensors.
 *
 * The mechanism (PyTorch aten/src/ATen/native/cudnn/Conv_v8.cpp, run_single_conv with benchmark on): on the
 * first call with a configuration, get_plans_from_find builds a plan for every engine config cuDNN's heuristics
 * (CUDNN_HEUR_MODE_INSTANT, all of them) and cudnn-frontend's fallback list offer, drops the ones PyTorch
 * filters (filterEngineConfigs), allocates ONE workspace as large as the largest plan's through the caching
 * allocator, times the plans, frees it; then emptyCache (the v7 behaviour it replicates) and runs the fastest
 * plan with its own workspace. The conv's output is already allocated when this happens. The key of that
 * cache is the convolution's parameters (shapes, padding, stride, dilation, groups, dtype, memory format,
 * deterministic, allow_tf32) and the data pointers' alignment: a configuration seen once is never timed again.
 *
 * The rule, from forward 1's allocator traces in bench/groundtruth/gpu-h200-torch2.11-cudnn-benchmark.jsonl.gz
 * (H200, torch 2.11, cuDNN 9.19; the trial is the one odd-sized allocation freed before emptyCache's segment
 * frees): the largest plan is cuDNN's FFT engine whenever it is offered, and its workspace is, to the byte,
 *
 *   max(C*K + N*C, N*K) * Fh * (Fw/2 + 1) * 16  +  filter bytes
 *
 * C, K input/output channels, N the batch, Fh x Fw the padded input frame (H + padding) rounded up to a power
 * of two and to at least 16: real-to-complex spectra (Fw/2 + 1 bins per row), 16 bytes per bin, of the filters
 * and inputs together or the outputs alone, whichever is larger (the buffer is reused), plus a copy of the
 * filter. It does not depend on the batch where C*K dominates: that is why a batch-1 32x32 image peaks at
 * 916 MiB (mobilenet_v2's last 1x1 conv, 320 -> 1280 at 1x1 spatial, still takes 16x16 spectra).
 * FFT is offered only for fp32 (none of resnet50 fp16's 22 configurations takes it: the same 512 -> 512 3x3
 * 7x7 configuration takes the FFT's 621 MiB at fp32 and 15 MiB at fp16), dense (groups 1), stride 1,
 * dilation 1, and, as cuDNN documents for its FFT algorithm, a padded frame of at most 256 and a filter
 * larger than the padding. bf16 is taken to behave as fp16 (not measured).
 * Where FFT is not offered (strided, grouped, fp16), the largest plan is smaller; the one family seen to the
 * byte is the channels-last transform (fp32: input + output + filter + 16 B, input and filter read with their
 * channels padded to 4 when there are fewer: resnet18's 7x7 stem, its 1x1 stride-2 downsamples; fp16: input +
 * output + 256 B: six of resnet50's 1x1 convolutions); other strided and fp16 plans take that plus up to
 * 16 MiB, or a few times the output (mobilenet_v2's 3x3 stride-2 stem: 3x), so the transform is used as a
 * lower bound there. Grouped/depthwise convolutions: 0 (measured: 400 bytes at most).
 *
 * What is a cap rather than a formula (Conv_v8.cpp, generate_and_filter_plans): plans whose workspace exceeds
 * the allocator's largest free block or, when nothing is cached, the device's free memory (cacheInfo seeded
 * with cudaMemGetInfo) are dropped, and an allocation that still fails is halved until it fits. Neither binds
 * on the measured H200 runs; here an FFT plan larger than the whole device is dropped (the free memory at
 * that moment, which is less, is not tracked), so a small GPU is not predicted to run out of memory on a
 * plan PyTorch would never allocate.
 *
 * Measured per configuration (`node dist/bench/cudnn-trials.js` prints all 83, five processes):
 * - FFT: 25 of the 28 distinct fp32 configurations FFT can run match to the byte. The structure was read off
 *   mobilenet_v2 b32 alone (its five 7x7 1x1 convolutions solve exactly to 2308*C*K + 2304*N*C: 16x9 bins x
 *   16 B, plus the 4-byte filter) and reproduces, unchanged, resnet18's 5 and vgg16's 9 FFT configurations
 *   (frames 16 to 256, 3x3 filters) and vgg16's RGB stem (output spectra dominate): no constant is fitted to
 *   those models. The 16-point floor is confirmed by the held-out batch-1 32x32 seed row (1x1 maps).
 *   Misses: three mobilenet_v2 configurations (144 -> 24 at 56x56, 144 -> 32 at 28x28, 192 -> 64 at 14x14)
 *   get no FFT plan (their trials are 60%, 66% and 81% below the FFT's size), so they are over-estimated by
 *   +150%, +194%, +426%; what leaves FFT out there is cuDNN's heuristics, not known here (none of them is
 *   its model's largest trial, so no peak moves).
 * - Channels-last transform (lower bound): 32 configurations, 9 to the byte, median -31%, worst -80%
 *   (resnet50 fp16 layer4.1.conv2); the largest misses are the strided 3x3 and fp16 3x3 plans that add up
 *   to 16 MiB, and the RGB stems (mobilenet_v2 fp32 -67%, resnet50 fp16 -64%).
 * bench/accuracy.js, peakAllocated of the seed rows (mobilenet_v2 fp32, fresh process, both exports alike),
 * before -> after (measured): b32 224x224 564.5 -> 999.5 MiB (966.5): -41.6% -> +3.4%; held-out b8 224x224
 * 248.4 -> 961.6 (928.6): -73.2% -> +3.6%; b1 32x32 51.3 -> 948.9 (915.9): -94.4% -> +3.6%; b128 224x224
 * 1814.6 -> 2366.6 (2333.6): -22.2% -> +1.4%. The 33.0 MiB left in every row was the cuBLAS (32 MiB) and
 * cuBLASLt (1 MiB) workspaces, simulated from before the model as in the measurement harness; a fresh process
 * (now pytorch-cuda's default, `cublasFirst` off) first uses cuBLAS at the classifier, after the trial peak,
 * and all four rows match to 0.1%. Totals (nvidia-smi): 0.0% to -0.2%. The H100
 * seed row with benchmark (bench/groundtruth/gpu-h100-torch2.11-seed.jsonl, b32) measured the same
 * max_allocated as the H200's to the byte (1,013,431,808): the FFT plan does not change between the two.
 */
import { byteSize } from "../../graph/dtype.js";
import { type ConvCall } from "./conv-call.js";
import { elementCount } from "../../graph/element-count.js";

export interface TrialWorkspace {
  bytes: number;
  /** The plan family the size comes from. */
  engine: "fft" | "channels-last" | "none";
  /** True when larger plans may exist that are not modelled (the size is a lower bound). */
  lowerBound: boolean;
}

/** cuDNN's FFT algorithm: a padded frame of at most 256 in each dimension (cuDNN documentation). */
const FFT_MAX_FRAME = 256;
/** Measured: frames below 16 still take 16-point transforms (1x1 and 7x7 maps: the same bytes per filter). */
const FFT_MIN_FRAME = 16;
/** Measured: bytes per frequency bin (two complex64 values). */
const FFT_BIN_BYTES = 16;
/** Measured on resnet18's stem (3 channels): the transform reads input and filter padded to 4 channels. */
const TRANSFORM_CHANNEL_MULTIPLE = 4;
/** Measured (fp32: resnet18's stem and 1x1 stride-2 downsample): input + output + filter + 16 bytes. */
const TRANSFORM_EXTRA_FP32 = 16;
/** Measured (fp16: six of resnet50's 1x1 convolutions, to the byte): input + output + 256 bytes, no filter copy. */
const TRANSFORM_EXTRA_HALF = 256;

/**
 * The largest workspace among the plans PyTorch times for this call. `available`: device memory the trial
 * may take at most; PyTorch drops plans whose workspace exceeds the free memory (see the header), so an FFT
 * plan larger than that is not timed.
 */
export function trialWorkspace(call: ConvCall, available = Number.POSITIVE_INFINITY): TrialWorkspace {
  if (call.group !== 1) return { bytes: 0, engine: "none", lowerBound: false };
  const fft = fftWorkspace(call);
  if (fft !== undefined && fft <= available) return { bytes: fft, engine: "fft", lowerBound: false };
  return { bytes: channelsLastWorkspace(call), engine: "channels-last", lowerBound: true };
}

/** The FFT engine's workspace, or undefined when cuDNN does not offer FFT for this call. */
export function fftWorkspace(call: ConvCall): number | undefined {
  const [n, c, h, wd] = call.x as [number, number, number, number];
  const [k, , kh, kw] = call.w as [number, number, number, number];
  const [, , oh, ow] = call.y as [number, number, number, number];
  if (call.dtype !== "float32") return undefined;
  if (call.strides.some((s) => s !== 1) || call.dilations.some((d) => d !== 1)) return undefined;
  // Stride 1: the output is frame - kernel + 1, whatever the padding attribute spelled.
  const frameH = oh + kh - 1;
  const frameW = ow + kw - 1;
  if (frameH > FFT_MAX_FRAME || frameW > FFT_MAX_FRAME) return undefined;
  // The filter must be larger than the padding on each side (cuDNN documentation).
  if (kh <= Math.ceil((frameH - h) / 2) || kw <= Math.ceil((frameW - wd) / 2)) return undefined;
  const fh = Math.max(FFT_MIN_FRAME, pow2(frameH));
  const fw = Math.max(FFT_MIN_FRAME, pow2(frameW));
  const bins = fh * (fw / 2 + 1);
  const spectra = Math.max(c * k + n * c, n * k);
  return spectra * bins * FFT_BIN_BYTES + byteSize(call.dtype, elementCount(call.w));
}

/**
 * Input and output transposed to channels-last (input channels padded to a multiple of 4); fp32 copies the
 * filter too (padded the same way), fp16/bf16 do not.
 */
export function channelsLastWorkspace(call: ConvCall): number {
  const c = call.x[1] ?? 1;
  const padded = Math.ceil(c / TRANSFORM_CHANNEL_MULTIPLE) * TRANSFORM_CHANNEL_MULTIPLE;
  const scale = padded / c;
  const bytes = (shape: number[]) => byteSize(call.dtype, elementCount(shape));
  const buffers = bytes(call.x) * scale + bytes(call.y);
  return call.dtype === "float32" ? buffers + bytes(call.w) * scale + TRANSFORM_EXTRA_FP32 : buffers + TRANSFORM_EXTRA_HALF;
}

/** The benchmark cache's key: the call's shapes, stride, dilation, groups and dtype (its output fixes the padding). */
export function benchmarkKey(call: ConvCall): string {
  return [call.x, call.w, call.y, call.strides, call.dilations, [call.group]].map((a) => a.join("x")).join("|") + `|${call.dtype}`;
}

function pow2(v: number): number {
  let p = 1;
  while (p < v) p *= 2;
  return p;
}
