/**
 * Fuzz per format beside the ONNX one (test/fuzz.test.ts): GGUF, config.json + safetensors, model.json (the
 * sidecar) and images, each from seeds in the repository through a structural mutator (test/format-mutators.ts:
 * counts, dims, keys, nesting, valid-but-huge values, byte damage). Every case must end within 2 s (scaled by
 * the load, as the ONNX fuzz does) with a result or a typed error (MemlensError), never another exception, a
 * hang or a runaway allocation. Cases run in worker threads with a heap limit and a watchdog.
 *
 * CI runs FUZZ_CASES (default 1000) per format. Offline: FUZZ_CASES=10000 node --test dist/test/fuzz-formats.test.js
 * FUZZ_FORMAT=gguf runs one format, FUZZ_ONLY=<index> one case, FUZZ_SEED changes the run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, workerData } from "node:worker_threads";
import { tinyLlamaGguf, type GgufTensorSpec, type GgufTestValue } from "../src/formats/gguf-testing.js";
import { mutateGguf, mutateImage, mutateJson, type GgufSpec } from "./format-mutators.js";
import { CASE_LIMIT_MS, caseLimitMs, runCasesHere, runWatched, WATCHDOG_MS, type Outcome } from "./fuzz-harness.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FASHION = join(ROOT, "models/fashion-mobilenetv2");
const SEED = Number(process.env["FUZZ_SEED"] ?? 20261203);
const CASES = Number(process.env["FUZZ_CASES"] ?? 1000);
const FORMATS = ["gguf", "hub", "sidecar", "image"] as const;
type Format = (typeof FORMATS)[number];

/** The keys of an LLM config that decide the work (layers, sizes): mutated more often than the rest. */
const CONFIG_KEYS = ["num_hidden_layers", "n_layer", "hidden_size", "n_embd", "vocab_size", "intermediate_size", "num_attention_heads", "n_head", "num_key_value_heads", "max_position_embeddings", "n_positions", "head_dim", "model_type"];
const SIDECAR_KEYS = ["labels", "preprocess", "size", "mean", "std", "scale", "crop", "channels", "layout", "file"];

/** Seeds: the tiny Llama GGUF (the writer's own, llama.cpp's tensor names), in two shapes. */
function ggufSeeds(): GgufSpec[] {
  const capture = (edit: (kv: [string, GgufTestValue][]) => [string, GgufTestValue][]) => {
    let spec: GgufSpec | undefined;
    tinyLlamaGguf((kv) => {
      const out = edit(kv);
      spec = { tensors: [], kv: out };
      return out;
    });
    return spec!;
  };
  const tensors = tinyTensors();
  return [{ ...capture((kv) => kv), tensors }, { ...capture((kv) => kv.filter(([k]) => k !== "llama.vocab_size")), tensors }];
}

function tinyTensors(): GgufTensorSpec[] {
  const h = 64, ff = 128, vocab = 256, kvDim = 32;
  const t: GgufTensorSpec[] = [];
  const add = (name: string, dims: number[], type: number) => t.push({ name, dims, type, bytes: dims.reduce((a, b) => a * b, 1) * (type === 0 ? 4 : 2) });
  add("token_embd.weight", [h, vocab], 1);
  for (let l = 0; l < 2; l++) {
    for (const [n, d, ty] of [["attn_norm", [h], 0], ["attn_q", [h, h], 1], ["attn_k", [h, kvDim], 1], ["attn_v", [h, kvDim], 1], ["attn_output", [h, h], 1], ["ffn_norm", [h], 0], ["ffn_gate", [h, ff], 1], ["ffn_up", [h, ff], 1], ["ffn_down", [ff, h], 1]] as const) {
      add(`blk.${l}.${n}.weight`, [...d], ty);
    }
  }
  add("output_norm.weight", [h], 0);
  add("output.weight", [h, vocab], 1);
  return t;
}

/** Seeds: hub configs as HF writes them for the three families memlens models (small sizes, real keys). */
const CONFIG_SEEDS = [
  { model_type: "llama", hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, vocab_size: 256, max_position_embeddings: 512, torch_dtype: "float16", eos_token_id: 2, rope_theta: 10000, tie_word_embeddings: false },
  { model_type: "gpt2", n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 1000, n_positions: 256, n_inner: null, torch_dtype: "float32", eos_token_id: 0 },
  { model_type: "bert", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, vocab_size: 1000, max_position_embeddings: 128, type_vocab_size: 2 },
  { model_type: "qwen2", hidden_size: 64, intermediate_size: 160, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, vocab_size: 512, max_position_embeddings: 1024, tie_word_embeddings: true },
].map((c) => JSON.stringify(c));

/** A safetensors file: the header, then zero bytes for the seed's tensors (memlens reads only the header). */
const SEED_DATA_BYTES = 65_792;

function safetensorsOf(headerJson: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + headerJson.length + SEED_DATA_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerJson.length), true);
  out.set(headerJson, 8);
  return out;
}

const HEADER_SEED = JSON.stringify({
  __metadata__: { format: "pt" },
  "model.embed_tokens.weight": { dtype: "F16", shape: [256, 64], data_offsets: [0, 32768] },
  "model.norm.weight": { dtype: "F32", shape: [64], data_offsets: [32768, 33024] },
  "lm_head.weight": { dtype: "BF16", shape: [256, 64], data_offsets: [33024, 65792] },
});

/** Seeds: the bundled model's samples and calibration PNGs (all real files in the repo). */
function imageSeeds(): Uint8Array[] {
  const dirs = [join(FASHION, "samples"), join(FASHION, "calibration")];
  const out: Uint8Array[] = [];
  for (const d of dirs) for (const f of readdirSync(d).sort().slice(0, 6)) if (/\.(png|jpe?g|webp)$/i.test(f)) out.push(new Uint8Array(readFileSync(join(d, f))));
  return out;
}

interface Case {
  bytes: Uint8Array;
  /** A second file (hub: the safetensors header beside the config). */
  extra?: Uint8Array;
  what: string[];
}

function makeCase(format: Format, i: number, seeds: Seeds): Case {
  const s = SEED + i * 7919 + FORMATS.indexOf(format);
  switch (format) {
    case "gguf":
      return mutateGguf(seeds.gguf[i % seeds.gguf.length]!, s);
    case "hub": {
      const cfg = mutateJson(CONFIG_SEEDS[i % CONFIG_SEEDS.length]!, s, CONFIG_KEYS);
      const header = i % 3 === 0 ? mutateJson(HEADER_SEED, s + 1, ["shape", "data_offsets", "dtype"]) : undefined;
      return { bytes: cfg.bytes, ...(header ? { extra: safetensorsOf(header.bytes) } : {}), what: [...cfg.what, ...(header ? header.what.map((w) => `header: ${w}`) : [])] };
    }
    case "sidecar":
      return mutateJson(seeds.sidecar, s, SIDECAR_KEYS);
    case "image":
      return mutateImage(seeds.images[i % seeds.images.length]!, s);
  }
}

interface Seeds {
  gguf: GgufSpec[];
  sidecar: string;
  images: Uint8Array[];
}

function loadSeeds(): Seeds {
  return { gguf: ggufSeeds(), sidecar: readFileSync(join(FASHION, "model.json"), "utf8"), images: imageSeeds() };
}

// ---- worker side ----
if (!isMainThread && (workerData as { formatFuzz?: boolean })?.formatFuzz) {
  const { format, from, to, only } = workerData as { format: Format; from: number; to: number; only: number | undefined };
  const { MemorySource } = await import("../src/formats/source.js");
  const { readGguf } = await import("../src/formats/gguf.js");
  const { readSafetensorsHeader } = await import("../src/formats/safetensors.js");
  const { parseJson } = await import("../src/formats/json.js");
  const { describeGguf, describeHub } = await import("../src/llm/describe.js");
  const { llmReport } = await import("../src/llm/estimate.js");
  const { parseSidecar } = await import("../src/runtime/sidecar.js");
  const { loadImage, fitImage } = await import("../src/runtime/image.js");
  const { imageSpecFor } = await import("../src/runtime/preprocess.js");
  const seeds = loadSeeds();
  const settings = { batch: 2, seq: 32, dtype: "fp16" as const, device: "h100", mode: "inference" as const, newTokens: 8, attn: "sdpa" as const };
  const run = async (c: Case): Promise<void> => {
    switch (format) {
      case "gguf": {
        const src = describeGguf(readGguf(new MemorySource(c.bytes, "fuzz.gguf")), "fuzz.gguf");
        llmReport(src, settings);
        return;
      }
      case "hub": {
        const cfg = parseJson(new TextDecoder().decode(c.bytes), "config.json");
        if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) return;
        const tensors = c.extra ? readSafetensorsHeader(new MemorySource(c.extra, "model.safetensors")).tensors : undefined;
        llmReport(describeHub(cfg as Record<string, unknown>, "config.json", tensors), settings);
        return;
      }
      case "sidecar": {
        const s = parseSidecar(parseJson(new TextDecoder().decode(c.bytes), "model.json"), "model.json");
        // The spec meets the bundled model's input and a real image, as predict applies it.
        const spec = imageSpecFor([{ name: "input", type: "float32", shape: ["batch", 3, 32, 32] }], s.preprocess, { resize: true, convert: true });
        await fitImage(await loadImage(seeds.images[0]!, { resize: true, convert: true }), spec);
        return;
      }
      case "image": {
        const img = await loadImage(c.bytes, { resize: true, convert: true });
        await fitImage(img, imageSpecFor([{ name: "input", type: "float32", shape: ["batch", 3, 32, 32] }], undefined, { resize: true, convert: true }));
        return;
      }
    }
  };
  await runCasesHere(from, to, only, (i) => makeCase(format, i, seeds), run);
}

/** Cases [from, to) of one format in a worker; a hang or a heap blow-up is a failed outcome, then the rest go on. */
function runWorker(format: Format, from: number, to: number, only: number | undefined): Promise<Outcome[]> {
  return runWatched<Outcome>(new URL(import.meta.url), (at) => ({ formatFuzz: true, format, from: at, to, only }), from, to, (i, why) => ({ i, what: makeCase(format, i, loadSeeds()).what, ms: WATCHDOG_MS, result: "crash", detail: why }));
}

if (isMainThread) {
  const only = process.env["FUZZ_ONLY"] === undefined ? undefined : Number(process.env["FUZZ_ONLY"]);
  const chosen = process.env["FUZZ_FORMAT"];
  for (const format of FORMATS) {
    if (chosen !== undefined && chosen !== format) continue;
    test(`${CASES} mutated ${format} inputs: a result or a typed error, each within ${CASE_LIMIT_MS} ms`, async (t) => {
      const half = Math.floor(CASES / 2);
      const t0 = performance.now();
      const results = (await Promise.all([runWorker(format, 0, half, only), runWorker(format, half, CASES, only)])).flat();
      const limit = caseLimitMs();
      const bad = results.filter((o) => o.result === "crash" || o.ms > limit);
      const typed = results.filter((o) => o.result === "typed").length;
      const slowest = results.reduce((a, o) => (o.ms > a.ms ? o : a), results[0]!);
      const reasons = new Map<string, number>();
      for (const o of results) if (o.result === "typed") {
        const key = o.detail.replace(/\d+/g, "N").replace(/'[^']*'|"[^"]*"/g, "'…'").slice(0, 70);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      t.diagnostic(`${format} refusals, most common: ${[...reasons].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${n}x ${k}`).join(" | ")}`);
      t.diagnostic(`${format}: ${results.length - typed} accepted, ${typed} refused with a typed error, ${bad.length} bad; slowest case ${slowest.i} ${slowest.ms.toFixed(0)} ms (${slowest.what.join("; ")}); ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (only === undefined) {
        assert.equal(results.length, CASES);
        // The mutations must bite, and must not refuse everything.
        assert.ok(typed > CASES * 0.1, `only ${typed} of ${CASES} refused: the mutations are too weak`);
        assert.ok(results.length - typed > 0, "no mutated case was accepted at all");
      }
      assert.deepEqual(bad.map((o) => `case ${o.i} (${o.what.join("; ")}): ${o.result} in ${o.ms.toFixed(0)} ms: ${o.detail}`), []);
    });
  }
}

if (isMainThread && process.env["FUZZ_ONLY"] === undefined) {
  const CLI_CASES = 3;
  test(`${CLI_CASES} mutated inputs per format through the CLI: exit 0 or 2, one line on stderr, no stack trace`, () => {
    const dir = tempDir("fuzz-formats");
    const seeds = loadSeeds();
    const failures: string[] = [];
    for (const format of FORMATS) {
      for (let k = 0; k < CLI_CASES; k++) {
        const i = 500_000 + k;
        const c = makeCase(format, i, seeds);
        const folder = join(dir, `${format}-${k}`);
        mkdirSync(folder);
        let args: string[];
        if (format === "gguf") {
          writeFileSync(join(folder, "m.gguf"), c.bytes);
          args = ["analyze", join(folder, "m.gguf"), "--json"];
        } else if (format === "hub") {
          writeFileSync(join(folder, "config.json"), c.bytes);
          if (c.extra) writeFileSync(join(folder, "model.safetensors"), c.extra);
          args = ["analyze", folder, "--json"];
        } else if (format === "sidecar") {
          symlinkSync(join(FASHION, "model.onnx"), join(folder, "model.onnx"));
          writeFileSync(join(folder, "model.json"), c.bytes);
          args = ["predict", join(folder, "model.onnx"), join(FASHION, "samples", readdirSync(join(FASHION, "samples")).sort()[0]!)];
        } else {
          writeFileSync(join(folder, "x.png"), c.bytes);
          args = ["predict", join(FASHION, "model.onnx"), join(folder, "x.png"), "--resize", "--convert"];
        }
        const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8", timeout: WATCHDOG_MS });
        const why = `${format} case ${i} (${c.what.join("; ")})`;
        const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
        if (r.status === 2 && lines.length !== 1) failures.push(`${why}: exit 2 with ${lines.length} stderr lines`);
        else if (r.status !== 0 && r.status !== 2) failures.push(`${why}: exit ${r.status ?? r.signal}: ${r.stderr.slice(0, 200)}`);
        if (/\n\s+at .+:\d+:\d+\)?/.test(r.stderr)) failures.push(`${why}: stack trace`);
      }
    }
    assert.deepEqual(failures, []);
  });
}
