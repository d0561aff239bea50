import { test } from "node:test";
import assert from "node:assert/strict";
import { archFromConfig, parameterCount } from "./arch.js";
import { parameterTensors } from "./program.js";

test("parameter counts from config.json match what HF builds", () => {
  // Measured: param_bytes / 4 in bench/groundtruth/h200-torch2.11.json (fp32 rows) for GPT2Config() and BertConfig().
  const gpt2 = archFromConfig({ model_type: "gpt2", n_embd: 768, n_layer: 12, n_head: 12, n_inner: null, vocab_size: 50257, n_positions: 1024 });
  assert.equal(parameterCount(gpt2), 497759232 / 4);
  const bert = archFromConfig({ model_type: "bert", hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522, max_position_embeddings: 512, type_vocab_size: 2 });
  assert.equal(parameterCount(bert), 437928960 / 4);
  // TinyLlama-1.1B's published count: 1,100,048,384 parameters (grouped-query attention, 4 kv heads).
  const llama = archFromConfig({ model_type: "llama", hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000 });
  assert.equal(parameterCount(llama), 1100048384);
  // The per-tensor list adds up to the same count.
  for (const a of [gpt2, bert, llama]) assert.equal(parameterTensors(a, 1).reduce((x, y) => x + y, 0), parameterCount(a));
});

test("unknown architectures and broken configs are refused with the reason", () => {
  assert.throws(() => archFromConfig({ model_type: "mamba" }), /not modelled/);
  assert.throws(() => archFromConfig({ model_type: "llama", hidden_size: 64 }), /num_attention_heads/);
  assert.throws(() => archFromConfig({ model_type: "llama", hidden_size: 64, num_attention_heads: 6, num_key_value_heads: 4, num_hidden_layers: 1, intermediate_size: 8, vocab_size: 8 }), /do not fit|not a multiple of 6 attention heads/);
});

test("counts past the plausible limits are refused before anything is built for them", async () => {
  const { ARCH_LIMITS } = await import("./arch.js");
  const base = { model_type: "llama", hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 128, vocab_size: 256 };
  assert.equal(archFromConfig({ ...base, num_hidden_layers: ARCH_LIMITS.layers }).layers, ARCH_LIMITS.layers);
  for (const layers of [ARCH_LIMITS.layers + 1, 1e5, 1e6, 1e12]) {
    assert.throws(() => archFromConfig({ ...base, num_hidden_layers: layers }), new RegExp(`layers \\(num_hidden_layers\\) is ${layers}, past the plausible limit of ${ARCH_LIMITS.layers}`));
  }
  assert.throws(() => archFromConfig({ ...base, vocab_size: 2 ** 40 }), /vocabulary .* past the plausible limit/);
  assert.throws(() => archFromConfig({ ...base, hidden_size: 2 ** 24, num_attention_heads: 2 ** 10 }), /hidden size .* past the plausible limit/);
  assert.throws(() => archFromConfig({ ...base, intermediate_size: 2 ** 30 }), /intermediate size .* past/);
  assert.throws(() => archFromConfig({ ...base, max_position_embeddings: 2 ** 40 }), /positions .* past/);
  assert.throws(() => archFromConfig({ ...base, num_hidden_layers: 1e5 }, "m.gguf: GGUF metadata"), /^ModelFormatError: m\.gguf: GGUF metadata: layers/);
});
