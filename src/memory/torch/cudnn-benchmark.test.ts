import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";
import { parseDim } from "../../sym/parse.js";
import { benchmarkKey, channelsLastWorkspace, fftWorkspace, trialWorkspace } from "./cudnn-benchmark.js";
import { convCall, type ConvCall } from "./conv-call.js";

// Shapes and trial sizes (bytes, to the byte) from forward 1's allocator traces in
// bench/groundtruth/gpu-h200-torch2.11-cudnn-benchmark.jsonl.gz (H200, torch 2.11, cuDNN 9.19).
function call(x: number[], w: number[], y: number[], strides = [1, 1], dtype: ConvCall["dtype"] = "float32", group = 1): ConvCall {
  return { x, w, y, strides, dilations: [1, 1], group, dtype };
}

test("FFT: the filter-and-input spectra dominate (mobilenet_v2 b32's last 1x1 conv, resnet18's 3x3 at 7x7)", () => {
  assert.equal(fftWorkspace(call([32, 320, 7, 7], [1280, 320, 1, 1], [32, 1280, 7, 7])), 968_949_760);
  assert.equal(fftWorkspace(call([32, 960, 7, 7], [320, 960, 1, 1], [32, 320, 7, 7])), 779_796_480);
  assert.equal(fftWorkspace(call([32, 512, 7, 7], [512, 512, 3, 3], [32, 512, 7, 7])), 651_165_696);
  assert.equal(fftWorkspace(call([32, 128, 28, 28], [128, 128, 3, 3], [32, 128, 28, 28])), 178_847_744);
});

test("FFT: frames round up to a power of two, 256 at vgg16's 224x224 + padding", () => {
  assert.equal(fftWorkspace(call([8, 64, 224, 224], [64, 64, 3, 3], [8, 64, 224, 224])), 2_434_940_928);
  assert.equal(fftWorkspace(call([8, 128, 112, 112], [128, 128, 3, 3], [8, 128, 112, 112])), 2_317_942_784);
  assert.equal(fftWorkspace(call([8, 512, 14, 14], [512, 512, 3, 3], [8, 512, 14, 14])), 622_854_144);
});

test("FFT: the output spectra alone when they are larger (mobilenet_v2's 1x1 expansions, vgg16's RGB stem)", () => {
  assert.equal(fftWorkspace(call([32, 16, 112, 112], [96, 16, 1, 1], [32, 96, 112, 112])), 408_950_784);
  assert.equal(fftWorkspace(call([32, 24, 56, 56], [144, 24, 1, 1], [32, 144, 56, 56])), 155_727_360);
  assert.equal(fftWorkspace(call([8, 3, 224, 224], [64, 3, 3, 3], [8, 64, 224, 224])), 270_539_520);
});

test("FFT: maps smaller than 16 still take 16-point spectra, so a batch-1 32x32 image keeps ~900 MiB", () => {
  const oneByOne = fftWorkspace(call([1, 320, 1, 1], [1280, 320, 1, 1], [1, 1280, 1, 1]))!;
  const sevenBySeven = fftWorkspace(call([1, 320, 7, 7], [1280, 320, 1, 1], [1, 1280, 7, 7]))!;
  assert.equal(oneByOne, sevenBySeven);
  // The seed row (batch 1, 32x32): max_allocated 960,350,208 = 14,237,184 of weights + this + 19 kB of tensors.
  assert.equal(oneByOne, 946_094_080);
});

test("no FFT for strided, grouped, fp16 or over-256 frames; the channels-last transform is then a lower bound", () => {
  // resnet18's 7x7 stride-2 stem (3 channels read as 4) and its 1x1 stride-2 downsample: exact.
  const stem = call([32, 3, 224, 224], [64, 3, 7, 7], [32, 64, 112, 112], [2, 2]);
  assert.equal(fftWorkspace(stem), undefined);
  assert.deepEqual(trialWorkspace(stem), { bytes: 128_500_752, engine: "channels-last", lowerBound: true });
  assert.equal(channelsLastWorkspace(call([32, 64, 56, 56], [128, 64, 1, 1], [32, 128, 28, 28], [2, 2])), 38_567_952);
  // The configuration that takes 651 MiB at fp32 takes 16,187,735 bytes at fp16 (resnet50): no FFT plan.
  const half = trialWorkspace(call([32, 512, 7, 7], [512, 512, 3, 3], [32, 512, 7, 7], [1, 1], "float16"));
  assert.equal(half.engine, "channels-last");
  assert.ok(half.bytes > 0 && half.bytes <= 16_187_735);
  // fp16 1x1 (resnet50 layer1.0.conv3): input + output + 256 bytes, to the byte.
  assert.equal(channelsLastWorkspace(call([32, 64, 56, 56], [256, 64, 1, 1], [32, 256, 56, 56], [1, 1], "float16")), 64_225_536);
  // Depthwise (mobilenet_v2): at most 400 bytes measured.
  assert.equal(trialWorkspace(call([32, 144, 56, 56], [144, 1, 3, 3], [32, 144, 56, 56], [1, 1], "float32", 144)).bytes, 0);
  // PyTorch drops plans larger than the free device memory: vgg16 b8's 2.3 GiB FFT plan on a 2 GiB device.
  const vgg = call([8, 64, 224, 224], [64, 64, 3, 3], [8, 64, 224, 224]);
  assert.equal(trialWorkspace(vgg).engine, "fft");
  assert.deepEqual(trialWorkspace(vgg, 2 * 2 ** 30), { bytes: channelsLastWorkspace(vgg), engine: "channels-last", lowerBound: true });
  // A 512x512 map is past the FFT algorithm's 256-point limit.
  assert.equal(fftWorkspace(call([1, 64, 512, 512], [64, 64, 3, 3], [1, 64, 512, 512])), undefined);
});

function conv(attrs: Node["attrs"] = {}): Node {
  return { name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"], attrs };
}

function values(x: number[], w: number[], y: number[]): Map<string, TensorInfo> {
  const info = (shape: number[]): TensorInfo => ({ shape, dtype: "float32" });
  return new Map([["x", info(x)], ["w", info(w)], ["y", info(y)]]);
}

test("convCall: the --dtype cast, a 1-D convolution as H = 1, and a key that tells configurations apart", () => {
  const v = values([32, 320, 7, 7], [1280, 320, 1, 1], [32, 1280, 7, 7]);
  const fp32 = convCall(conv(), v, undefined)!;
  const fp16 = convCall(conv(), v, "float16")!;
  assert.equal(fp32.dtype, "float32");
  assert.equal(fp16.dtype, "float16");
  assert.notEqual(benchmarkKey(fp32), benchmarkKey(fp16));
  assert.equal(benchmarkKey(fp32), benchmarkKey(convCall(conv(), v, undefined)!));
  assert.equal(trialWorkspace(fp32).bytes, 968_949_760);
  const strided = convCall(conv({ strides: { type: "ints", value: [2, 2] } }), v, undefined)!;
  assert.notEqual(benchmarkKey(strided), benchmarkKey(fp32));
  const oneD = convCall(conv(), values([4, 80, 3000], [384, 80, 3], [4, 384, 3000]), undefined)!;
  assert.deepEqual(oneD.x, [4, 80, 1, 3000]);
  assert.deepEqual(oneD.strides, [1, 1], "stride 1 along the added H");
  assert.equal(fftWorkspace(oneD), undefined, "3002 points is past the FFT limit");
  const symbolic = new Map(v);
  symbolic.set("x", { shape: [parseDim("N"), 320, 7, 7], dtype: "float32" });
  assert.equal(convCall(conv(), symbolic, undefined), undefined);
});
