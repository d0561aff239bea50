import { test } from "node:test";
import assert from "node:assert/strict";
import { llmAccuracy, median } from "../bench/llm-accuracy-lib.js";
import { DATA } from "../bench/shared.js";

const shared = DATA;

test("from config.json alone: bert-base and gpt2 activation peaks within 10% (median), gpt2 generation within 15%", () => {
  const rows = llmAccuracy(shared);
  const fwd = rows.filter((r) => r.what.endsWith("activationPeak"));
  const gen = rows.filter((r) => r.what.includes("generate"));
  assert.ok(fwd.length >= 16, `${fwd.length} forward rows`);
  assert.ok(gen.length >= 2, `${gen.length} generation rows`);
  assert.ok(median(fwd.map((r) => Math.abs(r.error))) <= 0.1);
  for (const r of gen) assert.ok(Math.abs(r.error) <= 0.15, `${r.what}: ${(100 * r.error).toFixed(1)}%`);
});
