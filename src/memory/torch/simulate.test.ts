import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "./simulate.js";
import type { EagerProgram } from "./eager.js";

const MiB = 1 << 20;

function program(usesCublas: boolean): EagerProgram {
  return {
    ops: [{ layer: "fc", opTypes: ["Gemm"], path: [], reads: ["x"], allocs: [{ id: "y", bytes: 4096, transient: false, what: "output" }], convs: [], usesCublas }],
    freeAfter: new Map([["y", Number.POSITIVE_INFINITY]]),
    inputBytes: 4096,
    outputBytes: 4096,
    weights: [3 * MiB],
    warnings: [],
  };
}

test("the cuBLAS workspace and the cuBLASLt block come with the first cuBLAS op and stay; none without cuBLAS", () => {
  const opts = { workspace: () => 0, cublasWorkspace: 32 * MiB, cublasLtWorkspace: MiB, cublasFirst: true };
  const withBlas = simulate(program(true), opts);
  const without = simulate(program(false), opts);
  assert.equal(withBlas.stats.allocated - without.stats.allocated, 33 * MiB);
  assert.equal(withBlas.stats.pools.small.allocated - without.stats.pools.small.allocated, MiB, "1 MiB is a small-pool block");
  assert.equal(withBlas.usesCublas, true);
  assert.equal(without.usesCublas, false);
  // Not first: allocated when the first cuBLAS op runs, so it is in the forward's peak, not before it.
  const late = simulate(program(true), { ...opts, cublasFirst: false });
  assert.equal(late.stats.allocated, withBlas.stats.allocated);
});

/** op0 leaves a 20 MiB scratch segment cached, op1 is a benchmarked conv, op2 needs a 30 MiB scratch. */
function benchmarkedProgram(): EagerProgram {
  const op = (layer: string, allocs: EagerProgram["ops"][number]["allocs"]) => ({ layer, opTypes: ["Conv"], path: [], reads: [], allocs, convs: [], usesCublas: false });
  return {
    ops: [
      op("a", [{ id: "a", bytes: 4096, transient: false, what: "output" }, { id: "a#scratch", bytes: 20 * MiB, transient: true, what: "workspace" }]),
      op("b", [{ id: "b", bytes: 4096, transient: false, what: "output" }]),
      op("c", [{ id: "c", bytes: 4096, transient: false, what: "output" }, { id: "c#scratch", bytes: 30 * MiB, transient: true, what: "workspace" }]),
    ],
    freeAfter: new Map([["a", 1], ["b", 2], ["c", Number.POSITIVE_INFINITY]]),
    inputBytes: 4096,
    outputBytes: 4096,
    weights: [MiB],
    warnings: [],
  };
}

test("cudnn.benchmark: the trial counts once, in forward 1, after the op's output; emptyCache follows every benchmark", () => {
  const base = { workspace: () => 0, cublasWorkspace: 0 };
  const plain = simulate(benchmarkedProgram(), base);
  const trial = simulate(benchmarkedProgram(), { ...base, benchmarkTrial: (i) => (i === 1 ? 100 * MiB : undefined) });
  // The trial adds to what is live at op1 once its output exists (weights, input, a, b); forward 2's
  // activation peak does not see it.
  assert.equal(trial.peakAllocated, MiB + 3 * 4096 + 100 * MiB);
  assert.equal(trial.activationPeak, plain.activationPeak);
  // A benchmark whose plans need no workspace still empties the cache (Conv_v8.cpp): op0's cached 20 MiB
  // segment goes back before op2 asks for 30 MiB, so the reserved peak holds one scratch segment, not both.
  const noWorkspace = simulate(benchmarkedProgram(), { ...base, benchmarkTrial: (i) => (i === 1 ? 0 : undefined) });
  assert.equal(plain.peakReserved, 2 * MiB + 20 * MiB + 30 * MiB);
  assert.equal(noWorkspace.peakReserved, 2 * MiB + 30 * MiB);
  assert.equal(noWorkspace.peakAllocated, plain.peakAllocated);
});
