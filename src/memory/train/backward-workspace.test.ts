import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";
import { convBackwardWorkspace } from "./backward-workspace.js";

/** A conv of x [32, cin, h, h] with a k x k filter to cout channels at the given stride. */
function conv(cin: number, cout: number, h: number, k: number, stride: number): { node: Node; values: Map<string, TensorInfo> } {
  const oh = Math.floor((h - 1) / stride) + 1;
  const node: Node = { name: "c", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["y"], attrs: { strides: { type: "ints", value: [stride, stride] } } };
  const values = new Map<string, TensorInfo>([
    ["x", { dtype: "float32", shape: [32, cin, h, h] }],
    ["w", { dtype: "float32", shape: [cout, cin, k, k] }],
    ["y", { dtype: "float32", shape: [32, cout, oh, oh] }],
  ]);
  return { node, values };
}

test("a strided 1x1 conv's gradients hold input + output (resnet50's layer2.0 downsample: 154,140,672 B at batch 32)", () => {
  const { node, values } = conv(256, 512, 56, 1, 2);
  assert.equal(convBackwardWorkspace(node, values, 0, undefined), 32 * 256 * 56 * 56 * 4 + 32 * 512 * 28 * 28 * 4);
  assert.equal(convBackwardWorkspace(node, values, 0, undefined), 154_140_672);
  // Under autocast the copies are half: half the bytes.
  assert.equal(convBackwardWorkspace(node, values, 0, "bfloat16"), 154_140_672 / 2);
});

test("a 3x3 conv over 64+ channels holds input + output + filter (resnet50's layer1 3x3: 51,527,680 B), even where its forward keeps less", () => {
  const spatial = conv(64, 64, 56, 3, 1);
  assert.equal(convBackwardWorkspace(spatial.node, spatial.values, 25_837_568, undefined), 51_527_680);
  // A larger forward workspace stands.
  assert.equal(convBackwardWorkspace(spatial.node, spatial.values, 60_000_000, undefined), 60_000_000);
});

test("a stride-1 1x1 conv and a thin 3x3 conv keep the forward's workspace", () => {
  const pointwise = conv(256, 64, 56, 1, 1);
  assert.equal(convBackwardWorkspace(pointwise.node, pointwise.values, 0, undefined), 0);
  const thin = conv(32, 32, 56, 3, 1);
  assert.equal(convBackwardWorkspace(thin.node, thin.values, 0, undefined), 0);
});
