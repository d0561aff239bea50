import { test } from "node:test";
import assert from "node:assert/strict";
import type { EagerOp, EagerProgram } from "../torch/eager.js";
import { autocastProgram } from "./autocast.js";

const op = (opTypes: string[], reads: string[], out?: string, bytes = 4096): EagerOp => ({
  layer: out ?? opTypes.join("+"), opTypes, path: [], reads, convs: [], usesCublas: false,
  allocs: out === undefined ? [] : [{ id: out, bytes, transient: false, what: "output" }],
});

// conv(x) -> a; layer_norm(a) -> b; b + bias parameter -> c; linear(c) -> d; d + c -> e (fp32 stream); relu_(e)
const prog: EagerProgram = {
  ops: [op(["Conv"], ["x"], "a"), op(["LayerNormalization"], ["a"], "b"), op(["Add"], ["b"], "c"), op(["MatMul", "Add"], ["c"], "d"), op(["Add"], ["d", "c"], "e"), op(["Relu"], ["e"])],
  freeAfter: new Map([["a", 1], ["b", 2], ["c", 4], ["d", 4], ["e", Number.POSITIVE_INFINITY]]),
  inputBytes: 2048,
  outputBytes: 4096,
  weights: [],
  warnings: [],
};

test("autocast: conv/linear compute in half from a half copy; layer_norm casts up; promotion makes no copy", () => {
  const r = autocastProgram(prog, () => true, (i) => i === 2);
  const [conv, ln, addBias, linear, residual, relu] = r.program.ops as [EagerOp, EagerOp, EagerOp, EagerOp, EagerOp, EagerOp];
  // The fp32 input x (2048 B) is cast to half for the conv; the conv output is half.
  assert.deepEqual(conv.allocs.map((a) => [a.id, a.bytes, a.what]), [["x#half", 1024, "copy"], ["a", 2048, "output"]]);
  assert.equal(r.castReads[0]!.get("x"), "x#half");
  // layer_norm reads an fp32 copy of the half a (twice its bytes) and writes fp32.
  assert.deepEqual(ln.allocs.map((a) => [a.id, a.bytes]), [["a#fp32", 4096], ["b", 4096]]);
  // Adding an fp32 parameter: fp32, no copy.
  assert.deepEqual(addBias.allocs.map((a) => [a.id, a.bytes]), [["c", 4096]]);
  // The linear casts c to half; the residual add of half d and fp32 c is fp32 by promotion, without a copy.
  assert.deepEqual(linear.allocs.map((a) => [a.id, a.bytes]), [["c#half", 2048], ["d", 2048]]);
  assert.deepEqual(residual.allocs.map((a) => [a.id, a.bytes]), [["e", 4096]]);
  assert.equal(relu.allocs.length, 0);
  assert.ok(r.half.has("a") && r.half.has("d") && !r.half.has("e"));
  // Copies die with the op that made them (unless it saves them for backward).
  assert.equal(r.program.freeAfter.get("a#fp32"), 1);
});
