import { test } from "node:test";
import assert from "node:assert/strict";
import { SOURCE_KINDS } from "../contract/source.js";
import { classify, fileRole } from "../formats/classify.js";
import { RUNTIMES } from "../memory/runtimes.js";
import { runtimeFor } from "./runtime-check.js";
import { DEFAULTS, eagerDType, llmSettingsOf } from "./settings.js";

test("classify: which file of a set is the model, the same rule for a path and for dropped files", () => {
  assert.deepEqual(classify(["model.onnx", "model.onnx.data"]), { kind: "onnx", model: "model.onnx", others: ["model.onnx.data"] });
  assert.deepEqual(classify(["tiny.Q4_K_M.gguf"]), { kind: "gguf", file: "tiny.Q4_K_M.gguf" });
  assert.deepEqual(classify(["model.safetensors", "config.json", "tokenizer.json"]), { kind: "transformer", config: "config.json", safetensors: ["model.safetensors"] });
  // A shard index is not a config; a renamed config is one when nothing else is.
  assert.deepEqual(classify(["model.safetensors.index.json", "gpt2.json"]), { kind: "transformer", config: "gpt2.json", safetensors: [] });
  assert.throws(() => classify(["model.safetensors"]), /holds weights but not the architecture/);
  assert.throws(() => classify([]), /no file chosen/);
  // Unknown bytes go to the ONNX reader, which says why they are not a model.
  assert.deepEqual(classify(["weights.bin"]), { kind: "onnx", model: "weights.bin", others: [] });
  assert.equal(fileRole("/hub/gpt2/config.json"), "config");
  assert.equal(fileRole("/hub/gpt2/myconfig.json"), undefined);
});

test("every runtime in the table declares the kinds of model it takes, and the pipeline refuses the others", () => {
  for (const r of RUNTIMES) {
    assert.ok(r.sources.length > 0, r.id);
    for (const k of r.sources) assert.ok(SOURCE_KINDS.includes(k), `${r.id}: ${k}`);
  }
  assert.equal(runtimeFor("gguf", undefined), "llama.cpp", "a GGUF runs on llama.cpp unless another runtime is chosen");
  assert.equal(runtimeFor("onnx", undefined), DEFAULTS.runtime);
  assert.equal(runtimeFor("transformer", "pytorch-cuda"), "pytorch-cuda");
  assert.throws(() => runtimeFor("transformer", "ort-cpu"), /--runtime ort-cpu: config\.json\/safetensors models are not estimated for it \(it takes ONNX graphs\)/);
  assert.throws(() => runtimeFor("onnx", "nope"), /no memory profile/);
});

test("one set of defaults for transformers: the prompt, the new tokens, the checkpoint's dtype, each said", () => {
  const arch = { savedDtype: "bfloat16", maxPositions: 1024 };
  const w: string[] = [];
  const s = llmSettingsOf({ mode: "generate" }, arch, w);
  assert.equal(s.seq, DEFAULTS.seq);
  assert.equal(s.newTokens, DEFAULTS.newTokens);
  assert.equal(s.dtype, "bf16");
  assert.equal(s.attn, DEFAULTS.attn);
  assert.match(w[0] ?? "", /sequence length not set: using 512 tokens, the default/);
  // Training keeps fp32 masters; a short position table bounds the default prompt.
  const t = llmSettingsOf({ mode: "train" }, { savedDtype: "float16", maxPositions: 300 }, [], true);
  assert.equal(t.dtype, "fp32");
  assert.equal(t.seq, 300);
  assert.equal(llmSettingsOf({ mode: "generate", dims: { seq: 64 } }, arch, []).seq, 64);
  assert.throws(() => llmSettingsOf({ mode: "generate", newTokens: 2000 }, arch, []), /no room for a prompt/);
  assert.throws(() => llmSettingsOf({ attn: "paged" }, arch, []), /--attn paged/);
  assert.equal(eagerDType("half", "transformers"), "fp16");
  assert.throws(() => eagerDType("int8", "transformers"), /--dtype int8: transformers run fp32, fp16 or bf16/);
});

test("a GGUF through the one estimate: llama.cpp by default with its flags, eager PyTorch when chosen, fit and sweep", async () => {
  const { ggufFuzzSeeds } = await import("../formats/gguf-models.js");
  const { readGguf } = await import("../formats/gguf.js");
  const { MemorySource } = await import("../formats/source.js");
  const { estimate } = await import("./estimate.js");
  const { fit } = await import("./fit.js");
  const { sweep } = await import("./sweep.js");
  const seed = ggufFuzzSeeds().find((s) => s.name.startsWith("llama2-like"))!;
  const source = { kind: "gguf" as const, file: seed.name, header: readGguf(new MemorySource(seed.bytes)), fileBytes: seed.bytes.length };
  const r = estimate(source, { cpu: "avx2", llamacpp: { ctx: 1024, parallel: 2 } });
  assert.equal(r.settings.runtime, "llama.cpp");
  assert.equal((r.memory!["llamacpp"] as { nCtx: number }).nCtx, 1024);
  assert.equal(r.settings.batch, 2, "-np: the sequences");
  assert.equal(estimate(source, { runtime: "pytorch-cuda", dims: { seq: 64 } }).settings.runtime, "pytorch-cuda");
  assert.throws(() => estimate(source, { runtime: "ort-cpu" }), /GGUF files are not estimated for it/);
  // fit as llama.cpp's --fit: every layer on the GPU and the largest context, every buffer of the plan.
  const f = fit(source, { device: "rtx4090", cpu: "avx2" }, "seq");
  assert.ok(f.llamacpp?.fits && f.llamacpp.plan?.gpuLayers === "all" && f.total <= f.capacity - f.llamacpp.margin);
  assert.equal(f.max, f.llamacpp.plan?.ctx);
  // The batch axis is llama.cpp's -np: -c split into per-sequence streams changes the compute graph's K·Q.
  const totals = [...sweep(source, { cpu: "avx2", llamacpp: { ctx: 1024 } }, "batch")].slice(0, 4).map((s) => ("point" in s ? s.point.total : NaN));
  assert.equal(totals.length, 4);
  assert.ok(totals.every((t) => t > 0) && new Set(totals).size === 4, totals.join(", "));
});
