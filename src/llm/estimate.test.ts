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

test("generate: min_new_tokens runs its processor only with an eos token; the previous step's fp32 logits and scores live through the next forward", () => {
  const gen = { ...run, mode: "generate", newTokens: 8 } as const;
  const withEos = archFromConfig({ ...llama, eos_token_id: 2 });
  const noEos = archFromConfig(llama);
  const opsOf = (e: ReturnType<typeof estimateLlm>) => e.program.ops.map((op) => op.layer);
  assert.ok(!opsOf(estimateLlm(withEos, gen)).some((l) => l.includes("min_new_tokens")));
  assert.ok(!opsOf(estimateLlm(noEos, { ...gen, minNewTokens: 8 })).some((l) => l.includes("min_new_tokens")));
  const e = estimateLlm(withEos, { ...gen, minNewTokens: 8 });
  assert.ok(opsOf(e).includes("generate/min_new_tokens/where"));
  // In the last decoding step, the first cache update runs while the step before's logits copy and scores are live.
  const cats = e.program.ops.flatMap((op, i) => (op.layer === "layers.0/cache/cat_keys" ? [i] : []));
  const firstCat = cats[cats.length - 1]!;
  const live = new Set<string>();
  for (const [id, after] of e.program.freeAfter) {
    const born = e.program.ops.findIndex((op) => op.allocs.some((al) => al.id === id));
    if (born >= 0 && born < firstCat && after >= firstCat) live.add(id.replace(/#\d+$/, ""));
  }
  assert.ok(live.has("generate/logits_to_fp32"), [...live].join(", "));
  assert.ok(live.has("generate/min_new_tokens/where"), [...live].join(", "));
  // With a large vocabulary the decoding steps hold the peak: the processor's clone and where (fp32, batch x
  // vocab each) plus arange (int64) and the eos mask add to it.
  const wide = archFromConfig({ ...llama, vocab_size: 200000, eos_token_id: 2 });
  const extra = estimateLlm(wide, { ...gen, minNewTokens: 8 }).memory.activationPeak - estimateLlm(wide, gen).memory.activationPeak;
  assert.ok(extra >= 2 * 2 * 200000 * 4, `${extra}`);
});
