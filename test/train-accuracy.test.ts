/**
 * Issue 6's training acceptance: the step peak (peak_delta_3) of resnet50, mobilenet_v2, vit_b_16, vgg16 and
 * resnet18 with Adam and SGD (momentum), from both exports: median |error| <= 10%, no case worse than 25%.
 * Skipped where ../shared is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { GROUND_TRUTH, median, trainRows, type TrainRow } from "../bench/train-accuracy-lib.js";

const skip = !existsSync(GROUND_TRUTH) && "ground truth not present";
let rows: TrainRow[] | undefined;
async function all(): Promise<TrainRow[]> {
  rows ??= await trainRows();
  return rows;
}
const show = (rs: TrainRow[]): string => rs.map((r) => `${r.model} ${r.exporter} ${r.optimizer}: ${(100 * r.error).toFixed(1)}%`).join("; ");

test("training step peak: 5 models x Adam/SGD x 2 exports, median |error| <= 10%", { skip }, async () => {
  const rs = await all();
  assert.equal(rs.length, 5 * 2 * 2);
  assert.deepEqual(new Set(rs.map((r) => r.model)), new Set(["resnet50", "mobilenet_v2", "vit_b_16", "vgg16", "resnet18"]));
  const m = median(rs.map((r) => Math.abs(r.error)));
  assert.ok(m <= 0.1, `median ${m}: ${show(rs)}`);
});

test("training step peak: no case worse than 25%", { skip }, async () => {
  const bad = (await all()).filter((r) => Math.abs(r.error) > 0.25);
  assert.equal(bad.length, 0, show(bad));
});

test("training: after the step, gradients and optimizer state match the measurement within 2%", { skip }, async () => {
  const bad = (await all()).filter((r) => Math.abs(r.afterStep.predicted - r.afterStep.measured) > 0.02 * r.afterStep.measured);
  assert.equal(bad.length, 0, show(bad));
});
