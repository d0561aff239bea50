import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { readGguf } from "../src/formats/gguf.js";
import { headerSource } from "../src/formats/gguf-writer.js";
import { GGML, MODEL_SHAPES, shapeGguf } from "../src/formats/gguf-models.js";
import { BENCH_MODELS, HELDOUT_MODELS } from "../bench/llamacpp-models.js";
import type { GroundTruth } from "../bench/llamacpp-measure.js";
import { benchEstimate, logRounded } from "../bench/llamacpp.js";
import { estimateLlamaCpp } from "../src/memory/llamacpp/estimate.js";
import { LLAMACPP_DEFAULTS, parseLlamaFlags } from "../src/memory/llamacpp/settings.js";
import { llamaCppSettingsOf } from "../src/pipeline/settings.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MiB = 2 ** 20;

/** The bench set (llamacpp-cpu-v*) and the held-out set (llamacpp-cpu-heldout-*). */
function truth(prefix: string): GroundTruth {
  const dir = join(ROOT, "bench/groundtruth");
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".json"))!;
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as GroundTruth;
}

test("every measured llama.cpp setting: model, KV and output buffers equal llama.cpp's log, compute within 1%", () => {
  const bench = truth("llamacpp-cpu-v");
  const heldout = truth("llamacpp-cpu-heldout-");
  assert.ok(bench.runs.length >= 80 && heldout.runs.length >= 20);
  const t = { runs: [...bench.runs, ...heldout.runs] };
  const headers = new Map<string, ReturnType<typeof readGguf>>();
  for (const run of t.runs) {
    const model = [...BENCH_MODELS, ...HELDOUT_MODELS].find((m) => m.id === run.model)!;
    let g = headers.get(model.id);
    if (!g) {
      g = readGguf(headerSource(shapeGguf(model.shape, model.plan), run.file));
      headers.set(model.id, g);
    }
    // Through the one pipeline, as analyze runs it: a GGUF source at the setting's flags.
    const est = benchEstimate({ kind: "gguf", file: run.file, header: g, fileBytes: run.fileBytes }, run.setting);
    const what = `${run.model} ${run.flags}`;
    for (const kind of ["model", "kv", "output"] as const) {
      const measured = run.measured.buffers.filter((b) => b.kind === kind).map((b) => `${b.buffer}=${b.mib}`);
      const predicted = est.buffers.filter((b) => b.kind === kind).map((b) => `${b.buffer}=${logRounded(b.bytes)}`);
      assert.deepEqual(predicted.sort(), measured.sort(), `${what}: ${kind}`);
      // To the byte where the harness saw the allocation (every buffer but the mapped one).
      const bytes = run.measured.buffers.filter((b) => b.kind === kind && b.bytes !== undefined).map((b) => `${b.buffer}=${b.bytes}`);
      const predictedBytes = est.buffers.filter((b) => b.kind === kind && b.buffer !== "CPU_Mapped").map((b) => `${b.buffer}=${b.bytes}`);
      assert.deepEqual(predictedBytes.sort(), bytes.sort(), `${what}: ${kind} bytes`);
    }
    // RSS after the harness's first prompt: the compute buffer's written part, the work buffer, the graph's metadata.
    const base = run.measured.rss["backend"]!.vm;
    const prompt = (run.measured.rss["prompt"]!.vm - base) * 1024;
    assert.ok(Math.abs(est.rss.afterPrompt! - prompt) / prompt < 0.05, `${what}: rss after prompt ${est.rss.afterPrompt! / MiB} vs ${prompt / MiB} MiB`);
    const compute = run.measured.buffers.find((b) => b.kind === "compute")!.mib * MiB;
    const predicted = est.buffers.find((b) => b.kind === "compute")!.bytes;
    assert.ok(Math.abs(predicted - compute) / compute < 0.01, `${what}: compute ${predicted / MiB} vs ${compute / MiB} MiB`);
  }
});

test("llama.cpp's flags parse as llama.cpp spells them, and the rest is left for memlens", () => {
  const { flags, rest } = parseLlamaFlags(["m.gguf", "-c", "8192", "-np", "2", "--ubatch-size=256", "-fa", "on", "-ctk", "q8_0", "-ctv", "q4_0", "--no-mmap", "-ngl", "all", "--kv-unified", "--swa-full", "--json"]);
  assert.deepEqual(rest, ["m.gguf", "--json"]);
  // Only what was given: the rest takes llama.cpp's defaults in the one settings object (pipeline/settings.ts).
  assert.deepEqual(flags, { ctx: 8192, parallel: 2, ubatch: 256, fa: "on", typeK: "q8_0", typeV: "q4_0", mmap: false, gpuLayers: "all", kvUnified: true, swaFull: true });
  const w: string[] = [];
  const choice = llamaCppSettingsOf({ llamacpp: flags, device: "rtx4090", cpu: "avx2" }, w);
  assert.deepEqual(choice.settings, { ...LLAMACPP_DEFAULTS, ...flags, cpu: "avx2" });
  assert.ok(choice.ctxGiven && choice.nglGiven);
  assert.deepEqual(w, []);
  // The page's way: the context as the `ctx` dimension, the sequences as the batch; a GPU takes every layer.
  const page = llamaCppSettingsOf({ dims: { ctx: 2048 }, batch: 3, device: "rtx4090", cpu: "avx2" }, []);
  assert.equal(page.settings.ctx, 2048);
  assert.equal(page.settings.parallel, 3);
  assert.equal(page.settings.gpuLayers, "all");
  const unset: string[] = [];
  assert.equal(llamaCppSettingsOf({ cpu: "avx2" }, unset).settings.ctx, LLAMACPP_DEFAULTS.ctx);
  assert.match(unset[0] ?? "", /context not set: using -c 4096/);
  assert.throws(() => llamaCppSettingsOf({ llamacpp: { gpuLayers: 4 } }, []), /name one with --device/);
  assert.throws(() => llamaCppSettingsOf({ dtype: "fp16" }, []), /GGUF's own tensor types/);
  assert.throws(() => parseLlamaFlags(["-fa", "maybe"]), /on, off or auto/);
  assert.throws(() => parseLlamaFlags(["-ctk", "q3_k"]), /KV cache types/);
  assert.throws(() => parseLlamaFlags(["-c"]), /needs a value/);
});

test("the CPU variant decides the repacking: AMX and CPU_REPACK buffers, none for a generic CPU", () => {
  const g = readGguf(headerSource(shapeGguf({ ...MODEL_SHAPES["llama2-like"]!, vocab: 512 }, { weights: GGML.Q8_0 })));
  const at = (cpu: "amx" | "avx512" | "generic") => estimateLlamaCpp(g, 0, { ...LLAMACPP_DEFAULTS, cpu }).buffers.filter((b) => b.kind === "model").map((b) => b.buffer);
  assert.deepEqual(at("amx"), ["CPU_Mapped", "AMX"], "Q8_0 matrices go to AMX (with a 4-byte compensation per block)");
  assert.deepEqual(at("avx512"), ["CPU_Mapped"], "x86 has no Q8_0 repack");
  const q4 = readGguf(headerSource(shapeGguf({ ...MODEL_SHAPES["llama2-like"]!, vocab: 512 }, { weights: GGML.Q4_0 })));
  const amx = estimateLlamaCpp(q4, 0, { ...LLAMACPP_DEFAULTS, cpu: "amx" }).buffers.find((b) => b.buffer === "AMX")!;
  const repack = estimateLlamaCpp(q4, 0, { ...LLAMACPP_DEFAULTS, cpu: "avx512" }).buffers.find((b) => b.buffer === "CPU_REPACK")!;
  assert.equal(amx.bytes, repack.bytes, "Q4_0 keeps its size in both layouts");
  assert.equal(estimateLlamaCpp(q4, 0, { ...LLAMACPP_DEFAULTS, cpu: "generic" }).buffers.filter((b) => b.kind === "model").length, 1);
});

test("llama.cpp's log lines parse into buffers, the KV summary, repacks and RSS", async () => {
  const { parseLlamaLog } = await import("../bench/llamacpp-parse.js");
  const log = [
    "LOG load_backend: loaded CPU backend from /x/libggml-cpu-zen4.so",
    "RSS backend 6576 932 5644",
    "ALLOC posix_memalign 16883712",
    "LOG load_tensors:   CPU_Mapped model buffer size =    16.12 MiB",
    "LOG load_tensors:   CPU_REPACK model buffer size =    16.10 MiB",
    "LOG repack: repack tensor blk.0.attn_q.weight with q4_0_8x8",
    "LOG llama_context: flash_attn            = disabled",
    "LOG llama_context:        CPU  output buffer size =     0.12 MiB",
    "LOG llama_kv_cache:        CPU KV buffer size =    16.00 MiB",
    "LOG llama_kv_cache: size =   16.00 MiB (  2048 cells,   4 layers,  1/1 seqs), K (f16):    8.00 MiB, V (f16):    8.00 MiB",
    "ALLOC posix_memalign 99999999",
    "ALLOC posix_memalign 68683776",
    "LOG sched_reserve:        CPU compute buffer size =    65.50 MiB",
    "RSS context 63904 40168 23736",
    "PROMPT 200",
    "ALLOC malloc 409728",
    "RSS prompt 72544 47040 24504",
    "LOG ~llama_context:        CPU compute buffer size is  65.5020 MiB, matches expectation of  65.5020 MiB",
    "DONE",
  ].join("\n");
  const r = parseLlamaLog(log);
  assert.deepEqual(r.buffers.map((b) => `${b.kind}:${b.buffer}=${b.mib}`), ["model:CPU_Mapped=16.12", "model:CPU_REPACK=16.1", "output:CPU=0.12", "kv:CPU=16", "compute:CPU=65.502"]);
  assert.deepEqual(r.kvCaches[0], { mib: 16, cells: 2048, layers: 4, seqs: 1, streams: 1, typeK: "f16", kMib: 8, typeV: "f16", vMib: 8 });
  assert.equal(r.repacked["blk.0.attn_q.weight"], "q4_0_8x8");
  assert.deepEqual(r.rss["context"], { vm: 63904, anon: 40168, file: 23736 });
  // Each buffer's exact bytes: the allocation before its log line that the log rounds to the logged MiB.
  assert.deepEqual(r.buffers.map((b) => b.bytes), [undefined, 16883712, undefined, undefined, 68683776]);
  assert.equal(r.promptTokens, 200);
  assert.deepEqual(r.promptAllocs, [409728]);
  assert.equal(r.cpuBackend, "zen4");
  assert.equal(r.flashAttention, "disabled");
  assert.ok(r.done);
  assert.equal(logRounded(0.125 * MiB), 0.12, "printf rounds half to even");
  assert.equal(logRounded(0.135 * MiB), 0.14);
});
