import { test } from "node:test";
import assert from "node:assert/strict";
import { archFromConfig } from "./arch.js";
import { CUBLASLT_WORKSPACE, estimateLlm } from "./estimate.js";
import { usesCublasLt } from "./program.js";

const llama = { model_type: "llama", hidden_size: 256, intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 1000 };
const run = { batch: 2, seq: 16, dtype: "fp16", device: "h200", mode: "inference", newTokens: 0, attn: "sdpa" } as const;

test("biased Linears (addmm through cuBLASLt) bring the 1 MiB cuBLASLt workspace; a bias-free llama does not", () => {
  const plain = archFromConfig(llama);
  const biased = archFromConfig({ ...llama, attention_bias: true });
  const qwen2 = archFromConfig({ ...llama, model_type: "qwen2" });
  assert.equal(usesCublasLt(plain), false);
  assert.equal(usesCublasLt(biased), true);
  assert.equal(usesCublasLt(qwen2), true);
  const a = estimateLlm(plain, run);
  const b = estimateLlm(qwen2, run);
  assert.equal(a.cublasLtWorkspace, 0);
  assert.equal(b.cublasLtWorkspace, CUBLASLT_WORKSPACE);
  assert.equal(b.memory.workspace - a.memory.workspace, CUBLASLT_WORKSPACE);
  // Persistent from the first forward: in peakAllocated, not in the second forward's activation peak.
  const biasBytes = 2 * (256 + 2 * 128) * 2;
  assert.ok(b.memory.peakAllocated - a.memory.peakAllocated >= CUBLASLT_WORKSPACE + biasBytes - 1024);
  assert.ok(Math.abs(b.memory.activationPeak - a.memory.activationPeak) < 4096);
});
