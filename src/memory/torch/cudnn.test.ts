/**
 * The workspace rule against single convolution calls measured on an H200 (bench/groundtruth/
 * gpu-h200-torch2.11-torchvision.json.gz, forward 2, cudnn.benchmark off): shapes and bytes from that file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";
import { convWorkspace } from "./cudnn.js";

function call(x: number[], w: number[], y: number[], opts: { stride?: number; group?: number; half?: boolean } = {}) {
  const dtype = opts.half ? "float16" : "float32";
  const values = new Map<string, TensorInfo>([
    ["x", { dtype, shape: x }],
    ["w", { dtype, shape: w }],
    ["y", { dtype, shape: y }],
  ]);
  const s = opts.stride ?? 1;
  const conv: Node = {
    name: "conv",
    opType: "Conv",
    domain: "",
    inputs: ["x", "w"],
    outputs: ["y"],
    attrs: { strides: { type: "ints", value: [s, s] }, group: { type: "int", value: opts.group ?? 1 } },
  };
  return convWorkspace(conv, values, { dtype: undefined });
}

const within = (predicted: number, measured: number, tolerance: number) =>
  assert.ok(Math.abs(predicted - measured) <= tolerance * measured, `predicted ${predicted}, measured ${measured}`);

test("fp16 spatial convs keep input, output and filter copies, thin ones too", () => {
  // squeezenet1_1 features.3.expand3x3, batch 8: 16 -> 64 channels at 55x55
  within(call([8, 16, 55, 55], [64, 16, 3, 3], [8, 64, 55, 55], { half: true }), 3_890_688, 0.01);
  // resnet18 layer1.0.conv1, batch 8
  within(call([8, 64, 56, 56], [64, 64, 3, 3], [8, 64, 56, 56], { half: true }), 6_496_768, 0.001);
});

test("fp32 wide convs: the filter and one operand at batch 1, all three from M = 4096 rows", () => {
  // resnet18 layer4.0.conv2 at batch 1 (M = 49): 9,669,120 bytes
  within(call([1, 512, 7, 7], [512, 512, 3, 3], [1, 512, 7, 7]), 9_669_120, 0.02);
  // resnet18 layer4.0.conv2 at batch 8 (M = 392 < 4096): measured 11,043,328, predicted max(I, O) + W
  within(call([8, 512, 7, 7], [512, 512, 3, 3], [8, 512, 7, 7]), 11_043_328, 0.15);
  // resnet18 layer2.0.conv2 at batch 8 (M = 6272): 7,012,864
  within(call([8, 128, 28, 28], [128, 128, 3, 3], [8, 128, 28, 28]), 7_012_864, 0.01);
});

test("fp32 thin convs: nothing at small M, all three copies at inception's 147x147", () => {
  // googlenet inception3a.branch3.1 at batch 8: 16 -> 32 at 28x28, no workspace
  assert.equal(call([8, 16, 28, 28], [32, 16, 3, 3], [8, 32, 28, 28]), 0);
  // inception_v3 Conv2d_2b_3x3 at batch 32: 32 -> 64 at 147x147, 266.34 MB
  within(call([32, 32, 147, 147], [64, 32, 3, 3], [32, 64, 147, 147]), 266_338_304, 0.01);
});

test("image stems: none for 3x3 and patchify stems or at batch 1; the 7x7 stem's padded input at fp16", () => {
  assert.equal(call([32, 3, 224, 224], [32, 3, 3, 3], [32, 32, 112, 112], { stride: 2 }), 0); // mobilenet_v2
  assert.equal(call([128, 3, 224, 224], [96, 3, 4, 4], [128, 96, 56, 56], { stride: 4, half: true }), 0); // convnext
  assert.equal(call([1, 3, 224, 224], [64, 3, 7, 7], [1, 64, 112, 112], { stride: 2 }), 0); // resnet18, batch 1
  // resnet18 conv1 at batch 32: fp32 122,065,920 bytes, fp16 66,060,288 (input padded to 4 channels)
  within(call([32, 3, 224, 224], [64, 3, 7, 7], [32, 64, 112, 112], { stride: 2 }), 122_065_920, 0.001);
  within(call([32, 3, 224, 224], [64, 3, 7, 7], [32, 64, 112, 112], { stride: 2, half: true }), 66_060_288, 0.03);
});

test("1x1 and depthwise convs take none", () => {
  assert.equal(call([32, 64, 56, 56], [256, 64, 1, 1], [32, 256, 56, 56]), 0);
  assert.equal(call([32, 96, 112, 112], [96, 1, 3, 3], [32, 96, 56, 56], { stride: 2, group: 96 }), 0);
});

test("fp32 64 -> 64 convs keep one operand and the filter below 2^18 rows (vgg16 at batch 1), all three above", () => {
  // vgg16 features.2 at batch 1 (M = 50176): 12,993,024 bytes (O + W); at batch 8 (M = 401408): 205,668,864
  within(call([1, 64, 224, 224], [64, 64, 3, 3], [1, 64, 224, 224]), 12_993_024, 0.001);
  within(call([8, 64, 224, 224], [64, 64, 3, 3], [8, 64, 224, 224]), 205_668_864, 0.001);
});
