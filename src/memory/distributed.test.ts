import { test } from "node:test";
import assert from "node:assert/strict";
import { distributedMemory, parseStrategy, type DistributedInput } from "./distributed.js";

/**
 * Expected GPU bytes from DeepSpeed's own estimators (deepspeed/runtime/zero/stage_1_and_2.py
 * estimate_zero2_model_states_mem_needs, and stage3.py estimate_zero3_model_states_mem_needs, the functions
 * their *_all_cold wrappers print), evaluated by hand for a Llama-2-7B-sized model: 6,738,415,616
 * parameters, largest layer the 32000 x 4096 embedding (131,072,000). Stage 1/2 without offload:
 * 4P + int(16P/N); with optimizer offload 2P. Stage 3 without offload: 4L + int(18P/N); optimizer offloaded:
 * 4L + int(2P/N); parameters offloaded too: 4L.
 */
const P = 6_738_415_616;
const L = 131_072_000;
const DEEPSPEED: { gpus: number; z2: number; z2off: number; z3: number; z3opt: number; z3all: number }[] = [
  { gpus: 1, z2: 134768312320, z2off: 13476831232, z3: 121815769088, z3opt: 14001119232, z3all: 524288000 },
  { gpus: 8, z2: 40430493696, z2off: 13476831232, z3: 15685723136, z3opt: 2208891904, z3all: 524288000 },
  { gpus: 64, z2: 28638266368, z2off: 13476831232, z3: 2419467392, z3opt: 734863488, z3all: 524288000 },
];
const base = (gpus: number): DistributedInput => ({
  trainableParams: P, largestLayerParams: L, optimizer: "adam", mixedPrecision: true, strategy: "zero2", gpus, gpusPerNode: 8,
});

test("ZeRO-1/2: per-GPU model states equal DeepSpeed's estimate_zero2_model_states_mem_needs", () => {
  for (const d of DEEPSPEED) {
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero2" }).total, d.z2, `zero2 ${d.gpus} GPUs`);
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero1" }).total, d.z2, `zero1 ${d.gpus} GPUs`);
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero2", offload: "optimizer" }).total, d.z2off);
  }
});

test("ZeRO-3: per-GPU model states equal DeepSpeed's estimate_zero3_model_states_mem_needs", () => {
  for (const d of DEEPSPEED) {
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero3" }).total, d.z3, `zero3 ${d.gpus} GPUs`);
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero3", offload: "optimizer" }).total, d.z3opt);
    assert.equal(distributedMemory({ ...base(d.gpus), strategy: "zero3", offload: "optimizer+params" }).total, d.z3all);
  }
});

test("DeepSpeed's CPU memory without its 1.5x margin: ZeRO-2 offload P*max(4N, 16), ZeRO-3 18P per node", () => {
  assert.equal(distributedMemory({ ...base(8), strategy: "zero2", offload: "optimizer" }).cpu, P * 32);
  assert.equal(distributedMemory({ ...base(2), strategy: "zero2", offload: "optimizer" }).cpu, P * 16);
  assert.equal(distributedMemory({ ...base(16), strategy: "zero3", offload: "optimizer+params" }).cpu, (P * 18) / 2);
});

test("DDP keeps everything per GPU plus a bucket copy of the gradients; FSDP shards fp32 params, grads and state", () => {
  const ddp = distributedMemory({ ...base(8), strategy: "ddp" });
  assert.equal(ddp.total, P * (2 + 2 + 4 + 8) + P * 2);
  const full = distributedMemory({ ...base(8), strategy: "fsdp-full" });
  assert.equal(full.shardGroup, 8);
  assert.equal(full.params + full.gradients + full.optimizerState, Math.floor((4 * P) / 8) * 2 + Math.floor((8 * P) / 8));
  const hybrid = distributedMemory({ ...base(32), strategy: "fsdp-hybrid", gpusPerNode: 8 });
  assert.equal(hybrid.shardGroup, 8);
  assert.equal(hybrid.total, full.total);
});

test("tensor parallelism splits every parameter and shrinks the data-parallel group", () => {
  const tp = distributedMemory({ ...base(8), strategy: "zero3", tp: 2 });
  assert.equal(tp.shardGroup, 4);
  assert.equal(tp.total, 4 * (L / 2) + Math.floor((18 * P) / 2 / 4));
  assert.throws(() => distributedMemory({ ...base(8), strategy: "zero3", tp: 3 }), /must divide/);
});

test("SGD has no optimizer state; fp32 training has no master copy", () => {
  const r = distributedMemory({ ...base(1), strategy: "single", optimizer: "sgd", mixedPrecision: false });
  assert.equal(r.total, P * 8);
  assert.equal(r.masterWeights, 0);
});

test("strategy flags", () => {
  assert.equal(parseStrategy("3", undefined, 8), "zero3");
  assert.equal(parseStrategy(undefined, "hybrid", 8), "fsdp-hybrid");
  assert.equal(parseStrategy(undefined, undefined, 8), "ddp");
  assert.equal(parseStrategy(undefined, undefined, 1), "single");
  assert.throws(() => parseStrategy("1", "full", 8), /one/);
  assert.throws(() => parseStrategy("4", undefined, 8), /1, 2 or 3/);
});
