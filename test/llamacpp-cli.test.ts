/** The llama.cpp runtime through the CLI: the default for .gguf, llama.cpp's flags, the JSON contract, fit, HTML. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ggufFuzzSeeds } from "../src/formats/gguf-models.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8", timeout: 60_000 });

function seedFile(name: string): string {
  const dir = tempDir("llamacpp-cli");
  const seed = ggufFuzzSeeds().find((s) => s.name.startsWith(name))!;
  const path = join(dir, seed.name);
  writeFileSync(path, seed.bytes);
  return path;
}

test("analyze X.gguf --json: llama.cpp by default, llama.cpp's flags, memory.buffers and memory.rss", () => {
  const path = seedFile("gemma2-like");
  const r = cli(["analyze", path, "--json", "-c", "2048", "-np", "2", "-b", "1024", "-ub", "256", "-fa", "on", "-ctk", "q8_0", "-ctv", "q8_0", "--no-mmap", "--kv-unified", "--cpu", "avx2"]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.settings.runtime, "llama.cpp");
  assert.equal(report.settings.device, "cpu");
  const buffers = report.memory.buffers as { device: string; kind: string; buffer: string; bytes: number }[];
  for (const b of buffers) {
    assert.deepEqual(Object.keys(b).sort(), ["buffer", "bytes", "device", "kind"]);
    assert.ok(Number.isInteger(b.bytes) && b.bytes > 0, JSON.stringify(b));
  }
  assert.deepEqual([...new Set(buffers.map((b) => b.kind))], ["model", "kv", "output", "compute"]);
  assert.ok(buffers.some((b) => b.kind === "model" && b.buffer === "CPU_REPACK"), "Q4_0 matrices repacked for AVX2");
  assert.ok(buffers.some((b) => b.kind === "model" && b.buffer === "CPU"), "--no-mmap: weights in a CPU buffer, none mapped");
  assert.ok(!buffers.some((b) => b.buffer === "CPU_Mapped"));
  assert.equal(buffers.filter((b) => b.kind === "kv").length, 2, "Gemma 2: a global and a sliding-window cache");
  assert.ok(report.memory.rss.afterContext > report.memory.rss.afterLoad && report.memory.rss.afterLoad > 0);
  assert.equal(report.memory.llamacpp.nCtx, 2048);
  assert.equal(report.memory.llamacpp.streams, 1, "--kv-unified: one stream");
});

test("the explanation, --html, fit --device rtx4090, and the refusals", () => {
  const path = seedFile("llama2-like");
  const text = cli(["analyze", path, "-c", "4096"]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /llama\.cpp on cpu/);
  assert.match(text.stdout, /why a .* file needs .*: weights .* KV cache .* compute and logits/);
  const html = join(tempDir("llamacpp-html"), "r.html");
  assert.equal(cli(["analyze", path, "-c", "1024", "--html", html]).status, 0);
  const page = readFileSync(html, "utf8");
  assert.match(page, /llama\.cpp&#39;s buffers per device|llama\.cpp's buffers per device/);
  assert.match(page, /memory against context length/);
  const fit = cli(["fit", path, "--device", "rtx4090", "--json"]);
  assert.equal(fit.status, 0, fit.stderr);
  const plan = JSON.parse(fit.stdout);
  assert.equal(plan.fits, true);
  assert.equal(plan.margin, 1024 * 2 ** 20);
  assert.ok(plan.total <= plan.capacity - plan.margin);
  assert.ok(plan.buffers.some((b: { device: string; unmeasured?: boolean }) => b.device === "CUDA0" && b.unmeasured === true));
  const ngl = cli(["analyze", path, "-ngl", "10"]);
  assert.equal(ngl.status, 1);
  assert.match(ngl.stderr, /name one with --device/);
  const torch = cli(["analyze", path, "--runtime", "pytorch-cuda", "--dim", "seq=64", "--json"]);
  assert.equal(torch.status, 0, torch.stderr);
  assert.equal(JSON.parse(torch.stdout).settings.runtime, "pytorch-cuda");
});
