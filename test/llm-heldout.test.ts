import { test } from "node:test";
import assert from "node:assert/strict";
import { llmHeldOutAccuracy } from "../bench/llm-accuracy-lib.js";
import { REPO_ROOT } from "../bench/shared.js";

test("held-out H200 rows (qwen2-0.5b, llama-3.2-1b, fp16): every forward and generate peak within 2% from config.json alone", () => {
  const rows = llmHeldOutAccuracy(REPO_ROOT);
  assert.equal(rows.filter((r) => r.what.includes("activationPeak")).length, 8);
  assert.equal(rows.filter((r) => r.what.includes("generate")).length, 4);
  for (const r of rows) assert.ok(Math.abs(r.error) <= 0.02, `${r.what}: ${(100 * r.error).toFixed(2)}%`);
});

test("the cuBLASLt workspace is added only to the first run in the process whose model has a biased Linear (qwen2 b1)", () => {
  const rows = llmHeldOutAccuracy(REPO_ROOT).filter((r) => r.what.includes("cuBLASLt"));
  assert.deepEqual(rows.map((r) => r.what.split(" ").slice(0, 4).join(" ")), ["qwen2-0.5b fp16 b1 s128", "qwen2-0.5b fp16 b1 s128"]);
});
