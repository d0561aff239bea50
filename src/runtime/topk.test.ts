import assert from "node:assert/strict";
import { test } from "node:test";
import { scores, topK } from "./topk.js";

test("softmax of logits, top-k ordered with labels", () => {
  const top = topK([1, 3, 2], 2, ["a", "b", "c"]);
  assert.deepEqual(top.map((t) => t.label), ["b", "c"]);
  const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
  const z = e[0]! + e[1]! + e[2]!;
  assert.ok(Math.abs(top[0]!.score - e[1]! / z) < 1e-12);
});

test("a row that already is a distribution is kept as is; large logits do not overflow", () => {
  assert.deepEqual([...scores([0.25, 0.75])], [0.25, 0.75]);
  const s = scores([1000, 0]);
  assert.ok(Math.abs(s[0]! - 1) < 1e-12 && Number.isFinite(s[1]!));
});

test("without labels only the index is given", () => {
  assert.deepEqual(Object.keys(topK([0, 1], 1)[0]!).sort(), ["index", "score"]);
});
