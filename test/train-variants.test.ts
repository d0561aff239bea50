/**
 * The training variants bench/measure-train.py measured on an H200 (bench/groundtruth/train-h200-torch2.11.json:
 * resnet50 and vit_b_16 at batch 32 under autocast bf16, gradient checkpointing, LoRA r=16, plain SGD and
 * AdamW), predicted from the dynamo exports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { median, variantRows, type VariantRow } from "../bench/train-accuracy-lib.js";
import { DYNAMO_FIXTURES } from "../bench/shared.js";

const show = (rs: VariantRow[]): string => rs.map((r) => `${r.model} ${r.variant} ${r.optimizer}: ${(100 * r.error).toFixed(1)}%`).join("; ");
let rows: VariantRow[] | undefined;
async function h200(): Promise<VariantRow[]> {
  rows ??= (await variantRows()).filter((r) => r.file === "train-h200-torch2.11.json");
  return rows;
}

test("training variants: all 8 H200 rows predicted, median |error| <= 1%", async () => {
  const rs = await h200();
  assert.equal(rs.length, 8);
  assert.deepEqual(new Set(rs.map((r) => r.variant)), new Set(["amp_bf16", "checkpointing", "lora16", "plain"]));
  const m = median(rs.map((r) => Math.abs(r.error)));
  assert.ok(m <= 0.01, `median ${m}: ${show(rs)}`);
});

// Were +25.9% (resnet50 checkpointed per stage, not per bottleneck; backward workspaces of the strided 1x1
// downsamples) and +11.7% (vit_b_16 LoRA: frozen attention projections taken to save their inputs).
test("training variants: every row within 3% (where the model stands today; a regression guard)", async () => {
  const bad = (await h200()).filter((r) => Math.abs(r.error) > 0.03);
  assert.equal(bad.length, 0, show(bad));
});

// Like with like: measure-train.py wraps every ResNet bottleneck and every ViT encoder layer.
test("checkpointing picks the blocks measure-train.py wrapped: resnet50's 16 bottlenecks, vit_b_16's 12 encoder layers", async () => {
  const { loadModelFile } = await import("../src/formats/load-node.js");
  const { analyzeModel } = await import("../src/analyze.js");
  const { estimateTraining } = await import("../src/memory/train/estimate.js");
  for (const [name, expected] of [["resnet50", "16 blocks, each recomputed in its backward: layer1.0, layer1.1, ..., layer4.2"], ["vit_b_16", "12 blocks, each recomputed in its backward: encoder.layers.encoder_layer_0, encoder.layers.encoder_layer_1, ..., encoder.layers.encoder_layer_11"]] as const) {
    const { model } = await loadModelFile(join(DYNAMO_FIXTURES, `${name}.onnx`));
    const a = analyzeModel(model, { batch: 32 });
    const e = estimateTraining(model, a.inference, { batch: 32, computeCapability: 9, checkpointing: true });
    assert.ok(e.sim.warnings.includes(`training: checkpointing ${expected}`), e.sim.warnings.join("\n"));
  }
});
