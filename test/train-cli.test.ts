/**
 * `memlens analyze --mode train` and `fit --mode train` as a user runs them, on the bundled Fashion-MNIST
 * MobileNetV2 (always present): the training breakdown, the options that change it, and usage errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MemoryReport, TimelinePoint } from "../src/contract/report.js";
import { LEGACY_FIXTURES } from "../bench/shared.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FASHION = join(ROOT, "models/fashion-mobilenetv2/model.onnx");

function memlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Training {
  optimizer: string;
  parameters: number;
  trainable: number;
  gradients: number;
  optimizerState: number;
  stepTemporaries: number;
  peakDelta: number;
  afterForward: number;
  afterBackward: number;
  afterStep: number;
}

function train(...args: string[]): { memory: MemoryReport & { training: Training; distributed?: Record<string, unknown> }; timeline: TimelinePoint[] } {
  const r = memlens("analyze", FASHION, "--json", "--device", "h200", "--mode", "train", "--batch", "64", ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { memory: MemoryReport & { training: Training }; timeline: TimelinePoint[] };
}

test("--mode train: gradients and Adam state from the parameters, the step's peak above the inference one", () => {
  const { memory: m, timeline } = train("--optimizer", "adam");
  const t = m.training;
  assert.equal(t.optimizer, "adam");
  assert.equal(t.gradients, t.trainable);
  assert.equal(t.optimizerState, 2 * t.trainable);
  assert.ok(t.afterForward > t.afterStep && t.afterStep >= t.gradients + t.optimizerState);
  // The step peak sits on top of the weights and the input (peakDelta counts from after them).
  assert.ok(m.peakAllocated >= m.weights + m.inputs + t.peakDelta);
  const inference = memlens("analyze", FASHION, "--json", "--device", "h200", "--batch", "64");
  const inf = (JSON.parse(inference.stdout) as { memory: MemoryReport }).memory;
  assert.ok(m.peakAllocated > 2 * inf.peakAllocated, `${m.peakAllocated} vs ${inf.peakAllocated}`);
  const phases = new Set(timeline.map((p) => p.layer.split(":")[0]));
  assert.ok(phases.has("backward") && phases.has("step"));
});

test("optimizers, checkpointing, mixed precision and LoRA move the numbers the right way", () => {
  const adam = train("--optimizer", "adam").memory;
  const sgd = train("--optimizer", "sgd").memory;
  assert.equal(sgd.training.optimizerState, 0);
  assert.ok(sgd.peakAllocated < adam.peakAllocated);
  const ckpt = train("--optimizer", "adam", "--checkpointing").memory;
  assert.ok(ckpt.training.afterForward < adam.training.afterForward);
  const bf16 = train("--optimizer", "adam", "--dtype", "bf16").memory;
  assert.equal(bf16.training.optimizerState, adam.training.optimizerState);
  assert.ok(bf16.training.afterForward < adam.training.afterForward);
});

test("--gpus/--zero give per-GPU model states and say which strategy", () => {
  const z = train("--optimizer", "adam", "--dtype", "bf16", "--zero", "3", "--gpus", "8").memory;
  assert.equal(z.distributed?.["strategy"], "zero3");
  assert.equal(z.distributed?.["shardGroup"], 8);
  const ddp = train("--optimizer", "adam", "--gpus", "4").memory;
  assert.equal(ddp.distributed?.["strategy"], "ddp");
});

test("fit --mode train finds a smaller batch than inference", () => {
  const fit = (...a: string[]) => JSON.parse(memlens("fit", FASHION, "--device", "l4", "--json", ...a).stdout) as { maxBatch: number };
  const inf = fit();
  const tr = fit("--mode", "train", "--optimizer", "adam");
  assert.ok(tr.maxBatch > 0 && tr.maxBatch < inf.maxBatch, `${tr.maxBatch} vs ${inf.maxBatch}`);
  // Sharding the model states over 8 GPUs leaves each at least as much room for activations.
  const sharded = fit("--mode", "train", "--optimizer", "adam", "--gpus", "8", "--zero", "3");
  assert.ok(sharded.maxBatch >= tr.maxBatch, `${sharded.maxBatch} vs ${tr.maxBatch}`);
});

test("training options are usage errors without --mode train, or when malformed", () => {
  for (const args of [["--lora-rank", "8"], ["--mode", "train", "--qlora"], ["--mode", "train", "--zero", "4"], ["--mode", "train", "--zero", "2", "--fsdp", "full"], ["--mode", "train", "--optimizer", "lion"], ["--mode", "train", "--gpus", "8", "--tp", "3"]]) {
    const r = memlens("analyze", FASHION, ...args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^memlens: /);
  }
});

test("analyze --mode train explains gradients, optimizer state and the per-GPU states in text", () => {
  const r = memlens("analyze", FASHION, "--device", "h200", "--mode", "train", "--optimizer", "adam", "--batch", "8", "--gpus", "8", "--zero", "3");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /training \(adam\): gradients .*optimizer state .*step temporaries/);
  assert.match(r.stdout, /per GPU \(zero3, 8 GPUs\): model states .* sharded over 8/);
  assert.match(r.stdout, /through the training step/);
});

test("--mode train checks the step's own peak against the device: resnet50 at batch 256 does not fit a T4", () => {
  const model = join(LEGACY_FIXTURES, "resnet50.onnx");
  const run = (device: string): { total: number; warnings: string[] } => {
    const r = memlens("analyze", model, "--json", "--mode", "train", "--batch", "256", "--device", device);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { memory: MemoryReport; warnings: string[] };
    return { total: rep.memory.total, warnings: rep.warnings };
  };
  const t4 = run("t4");
  const gib = (n: number): string => `${(n / 2 ** 30).toFixed(2)} GiB`;
  // The step is far beyond 15 GiB: its peak and the T4's capacity are both named.
  assert.ok(t4.total > 20 * 2 ** 30, `total ${t4.total}`);
  const oom = t4.warnings.find((w) => w.includes("CUDA out of memory"));
  assert.ok(oom, t4.warnings.join("\n"));
  assert.match(oom, new RegExp(`^the training step peaks at ${gib(t4.total).replace(".", "\\.")} but the NVIDIA T4 has 15\\.00 GiB`));
  // The T4's context is carried over from the H200: said in training as in inference.
  assert.ok(t4.warnings.some((w) => w.startsWith("CUDA context and kernel sizes for t4 are assumed")), t4.warnings.join("\n"));
  // The same step fits an H200 (141 GiB): no out-of-memory warning there.
  const h200 = run("h200");
  assert.ok(!h200.warnings.some((w) => w.includes("out of memory")), h200.warnings.join("\n"));
});
