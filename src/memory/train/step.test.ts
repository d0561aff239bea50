import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeModel } from "../../analyze.js";
import { loadModelFile } from "../../formats/load-node.js";
import { estimateTraining, type TrainOptions } from "./estimate.js";
import { nf4Bytes } from "./params.js";
import { LEGACY_FIXTURES, DYNAMO_FIXTURES } from "../../../bench/shared.js";
import { join } from "node:path";

const VIT = join(DYNAMO_FIXTURES, "vit_b_16.onnx");

async function vit(opts: Partial<TrainOptions>) {
  const { model } = await loadModelFile(VIT);
  const a = analyzeModel(model, { batch: 8 });
  return estimateTraining(model, a.inference, { batch: 8, computeCapability: 9, optimizer: "adam", ...opts });
}

test("NF4 with double quantization: 4 bits, an 8-bit absmax per 64, 8 bytes per 256 blocks", () => {
  assert.equal(nf4Bytes(64 * 256), 8192 + 256 + 8);
  assert.equal(nf4Bytes(4096 * 4096), 8388608 + 262144 + 1024 * 8);
});

test("vit_b_16 training: Adam state is twice the trainable bytes; checkpointing lowers the step peak", async () => {
  const full = await vit({});
  assert.equal(full.sim.optimizerStateBytes, 2 * full.sim.trainableBytes);
  const ckpt = await vit({ checkpointing: true });
  const saved = (e: typeof full): number => e.sim.afterForward - e.sim.optimizerStateBytes;
  assert.ok(saved(ckpt) < 0.5 * saved(full), `${saved(ckpt)} vs ${saved(full)}`);
  assert.ok(ckpt.sim.peakDelta < full.sim.peakDelta);
});

test("LoRA freezes the base: gradients and optimizer state only for the adapters; QLoRA packs the base to ~4 bits", async () => {
  const full = await vit({});
  const lora = await vit({ loraRank: 8 });
  assert.ok(lora.sim.trainableBytes < 0.02 * full.sim.trainableBytes);
  assert.equal(lora.sim.gradientBytes, lora.sim.trainableBytes);
  assert.ok(lora.sim.peakDelta < full.sim.peakDelta);
  // Targets: the MLP Linears and the head (12 x 2 + 1); nn.MultiheadAttention's projections are not Linear calls.
  assert.equal(lora.params.filter((p) => p.lora?.part === "A").length, 25);
  const q = await vit({ loraRank: 8, qlora: true });
  const packed = q.params.filter((p) => p.quantized);
  assert.equal(packed.length, 25);
  const saved = packed.reduce((s, p) => s + 4 * p.elements - nf4Bytes(p.elements), 0);
  assert.equal(lora.sim.paramBytes - q.sim.paramBytes, saved);
  assert.ok(saved > 0.5 * lora.sim.paramBytes, `${saved} of ${lora.sim.paramBytes}`);
});

test("mixed precision halves the activations but keeps fp32 parameters and state", async () => {
  const full = await vit({});
  const amp = await vit({ dtype: "bf16" });
  assert.equal(amp.sim.paramBytes, full.sim.paramBytes);
  // Saved activations halve; the autocast half copies of the weights (P/2) are saved on top.
  const acts = (e: typeof full, copies: number): number => e.sim.afterForward - e.sim.optimizerStateBytes - copies;
  assert.ok(acts(amp, full.sim.trainableBytes / 2) < 0.6 * acts(full, 0), `${acts(amp, full.sim.trainableBytes / 2)} vs ${acts(full, 0)}`);
});

test("parameters as eager holds them: folded and standalone BatchNorms, exporter-deduplicated constants", async () => {
  // torchvision's own counts: densenet121 7,978,856 and efficientnet_b0 5,288,548 (the TorchScript exports
  // keep every parameter; their BatchNorm ones/zeros come as Identity nodes of one initializer).
  for (const [name, count] of [["densenet121", 7_978_856], ["efficientnet_b0", 5_288_548], ["resnet50", 25_557_032]] as const) {
    const { model } = await loadModelFile(join(LEGACY_FIXTURES, `${name}.onnx`));
    const a = analyzeModel(model, { batch: 1 });
    const e = estimateTraining(model, a.inference, { batch: 1, computeCapability: 9 });
    assert.equal(e.params.filter((p) => p.trainable).reduce((s, p) => s + p.elements, 0), count, name);
  }
});
