import { test } from "node:test";
import assert from "node:assert/strict";
import type { EagerProgram } from "../torch/eager.js";
import { simulateTraining } from "./step.js";
import { blockModules, checkpointBlocks } from "./checkpoint.js";
import type { TrainParam } from "./params.js";
import type { OptimizerKind } from "./optimizer.js";

/**
 * y = relu_(x W) with x 2 KiB, W 4 KiB, y 8 KiB: every block is in the small pool, so the allocator counts
 * exactly the rounded sizes and each number below follows by hand.
 */
const program: EagerProgram = {
  ops: [
    { layer: "fc", opTypes: ["Gemm"], path: [], reads: ["x"], allocs: [{ id: "y", bytes: 8192, transient: false, what: "output" }], convs: [], usesCublas: false },
    { layer: "relu", opTypes: ["Relu"], path: [], reads: ["y"], allocs: [], convs: [], usesCublas: false },
  ],
  freeAfter: new Map([["y", Number.POSITIVE_INFINITY]]),
  inputBytes: 2048,
  outputBytes: 8192,
  weights: [4096],
  warnings: [],
};
const params: TrainParam[] = [{ op: 0, elements: 1024, bytes: 4096, trainable: true, what: "weight" }];
const run = (optimizer: OptimizerKind) => simulateTraining(program, { optimizer, params, workspace: () => 0, cublasWorkspace: 0, batch: 2 });

test("momentum: forward keeps y (relu's saved result) and the log-probabilities; the peak is the loss's backward", () => {
  const r = run("momentum");
  assert.equal(r.base, 4096 + 2048 + 512);
  // state 4096 + y 8192 + log_softmax 8192 + loss 512
  assert.equal(r.afterForward, 4096 + 8192 + 8192 + 512);
  // + nll_loss's gradient and the logits' gradient, both 8192
  assert.equal(r.peakDelta, 4096 + 8192 + 8192 + 512 + 8192 + 8192);
  // gradient 4096 + state 4096 + y 8192 (the caller's `out`) + loss 512
  assert.equal(r.afterBackward, 4096 + 4096 + 8192 + 512);
  assert.equal(r.afterStep, r.afterBackward);
  assert.equal(r.optimizerStateBytes, 4096);
  assert.deepEqual(r.timeline.map((t) => t.phase), ["forward", "forward", "forward", "backward", "backward", "step"]);
});

test("Adam: two state tensors; its sqrt temporaries live only during the step", () => {
  const r = run("adam");
  assert.equal(r.optimizerStateBytes, 8192);
  assert.equal(r.stepTemporaryBytes, 4096);
  assert.equal(r.peakDelta, 8192 + 8192 + 8192 + 512 + 8192 + 8192);
  assert.equal(r.afterStep, 4096 + 8192 + 8192 + 512);
});

test("SGD without momentum keeps no state", () => {
  const r = run("sgd");
  assert.equal(r.optimizerStateBytes, 0);
  assert.equal(r.afterStep, 4096 + 8192 + 512);
});

test("a frozen parameter gets no gradient, and an op no gradient reaches saves nothing", () => {
  const r = simulateTraining(program, { optimizer: "adam", params: [{ ...params[0]!, trainable: false }], workspace: () => 0, cublasWorkspace: 0, batch: 2 });
  assert.equal(r.gradientBytes, 0);
  assert.equal(r.afterStep, 8192 + 512);
});

test("checkpoint blocks: runs of three or more ops under one module, at the depth that keeps least", () => {
  // Each op saves 100 bytes and reads a 10-byte tensor made by the op before it.
  const ops = ["a", "a", "a", "b", "c", "c", "c", "c"].map((m, i) => ({ ...program.ops[0]!, path: ["root", m], reads: [`t${i}`], allocs: [{ id: `t${i + 1}`, bytes: 10, transient: false, what: "output" as const }] }));
  const saved = ops.map(() => 100);
  // Depth 1 is one block (all 800 bytes saved while it is recomputed); depth 2 keeps 400 + 100 + 2 inputs.
  assert.deepEqual(checkpointBlocks(ops, saved, () => 10), [0, 0, 0, -1, 1, 1, 1, 1]);
});

test("checkpoint blocks: the backward frees later blocks' inputs first, so small late blocks do not count against fine blocks", () => {
  // Two stages of two 3-op sub-blocks; every tensor 160 bytes; stage 1's ops save 100 each, stage 2's 10.
  const mod = ["s1/a", "s1/a", "s1/a", "s1/b", "s1/b", "s1/b", "s2/c", "s2/c", "s2/c", "s2/d", "s2/d", "s2/d"];
  const ops = mod.map((m, i) => ({ ...program.ops[0]!, path: ["root", ...m.split("/")], reads: [`t${i}`], allocs: [{ id: `t${i + 1}`, bytes: 160, transient: false, what: "output" as const }] }));
  const saved = mod.map((m) => (m.startsWith("s1") ? 100 : 10));
  // Stages: stage 1 recomputes (600) with only its own input held (160): 760. Sub-blocks: the worst is b
  // (300) with the inputs of a and b (320): 620; the last, d, holds all four inputs (640) and 30: 670.
  // Counting every input against the largest block would give stages 320 + 600 = 920 < 640 + 300 = 940.
  assert.deepEqual(checkpointBlocks(ops, saved, () => 160), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
});

test("a Linear whose weight is frozen keeps nothing of its input; trained, it keeps it (8 KiB here)", () => {
  const two: EagerProgram = {
    ...program,
    ops: [
      { ...program.ops[0]!, layer: "fc1" },
      { layer: "fc2", opTypes: ["Gemm"], path: [], reads: ["y"], allocs: [{ id: "z", bytes: 8192, transient: false, what: "output" }], convs: [], usesCublas: false },
    ],
    freeAfter: new Map([["y", 1], ["z", Number.POSITIVE_INFINITY]]),
  };
  const fc2 = (trainable: boolean): TrainParam[] => [params[0]!, { op: 1, elements: 1024, bytes: 4096, trainable, what: "weight" }];
  const fwd = (trainable: boolean) => simulateTraining(two, { optimizer: "sgd", params: fc2(trainable), workspace: () => 0, cublasWorkspace: 0, batch: 2 }).afterForward;
  assert.equal(fwd(true) - fwd(false), 8192);
});

test("checkpoint blocks: a tensor many blocks read (DenseNet's earlier features) is held once, not once per block", () => {
  // An op outside any block makes f (1000 bytes); two stages of three 3-op layers; each layer's first op reads
  // f and the tensor before it (10 bytes); every op saves 100.
  const mod = ["", ...["s1", "s2"].flatMap((s) => [1, 2, 3].flatMap((l) => [`${s}/l${l}`, `${s}/l${l}`, `${s}/l${l}`]))];
  const ops = mod.map((m, i) => {
    const first = i > 0 && mod[i - 1] !== m;
    const reads = i === 0 ? ["x"] : first && i > 1 ? ["f", `t${i}`] : i === 1 ? ["f"] : [`t${i}`];
    return { ...program.ops[0]!, path: ["root", ...(m === "" ? [] : m.split("/"))], reads, allocs: [{ id: i === 0 ? "f" : `t${i + 1}`, bytes: i === 0 ? 1000 : 10, transient: false, what: "output" as const }] };
  });
  const saved = mod.map(() => 100);
  const bytes = (id: string): number => (id === "f" ? 1000 : 10);
  // Layers: f and five 10-byte inputs (1050), op 0's 100 and the last layer's 300: 1450. Stages: f and one
  // input each (1010, 1020) with a stage's 900: 2020. Counting f once per block, stages would win (3020 < 6360).
  assert.deepEqual(checkpointBlocks(ops, saved, bytes), [-1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]);
});

test("checkpoint blocks are named by the innermost module all their ops share", () => {
  const ops = [["root", "a", "x"], ["root", "a", "y"], ["root", "b", "z"], ["root", "b", "z"], ["root"]].map((path) => ({ ...program.ops[0]!, path }));
  assert.deepEqual(blockModules(ops, [0, 0, 1, 1, -1]), ["root/a", "root/b/z"]);
});
