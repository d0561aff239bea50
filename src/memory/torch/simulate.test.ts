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
