/**
 * `--mode generate --min-new-tokens N` states generation as the measurement ran it: transformers'
 * generate(max_new_tokens=N, min_new_tokens=N) adds MinLengthLogitsProcessor and
 * MinNewTokensLengthLogitsProcessor when the model has an eos token, and their fp32 clones of the scores raise
 * the decoding peak. Checked through the CLI against the ground truth's gpt2 generate rows
 * (bench/groundtruth/h200-torch2.11.json, H200, PyTorch 2.11, transformers' greedy generate).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  model: string;
  dtype: string;
  batch: number;
  seq: number;
  generate_new_tokens?: number;
  generate_peak_delta?: number;
}

const gt = JSON.parse(readFileSync(join(ROOT, "bench/groundtruth/h200-torch2.11.json"), "utf8")) as { hf_configs: Record<string, unknown>; runs: Run[] };

function memlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function gpt2Folder(): string {
  const dir = tempDir("generate");
  writeFileSync(join(dir, "config.json"), JSON.stringify(gt.hf_configs["gpt2"]));
  return dir;
}

function generatePeak(dir: string, run: Run, ...extra: string[]): { peak: number; warnings: string[] } {
  const dtype = run.dtype === "float16" ? "fp16" : "fp32";
  const r = memlens("analyze", dir, "--mode", "generate", "--dtype", dtype, "--batch", String(run.batch), "--dim", `seq=${run.seq}`, "--new-tokens", String(run.generate_new_tokens), "--device", "h200", "--json", ...extra);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { memory: { activationPeak: number }; warnings: string[] };
  return { peak: j.memory.activationPeak, warnings: j.warnings };
}

test("generate --min-new-tokens 128 reproduces the ground truth's gpt2 generate rows within 2%", () => {
  const dir = gpt2Folder();
  const rows = gt.runs.filter((r) => r.model === "gpt2" && typeof r.generate_peak_delta === "number");
  assert.equal(rows.filter((r) => r.dtype === "float16").length, 2);
  for (const run of rows) {
    const n = String(run.generate_new_tokens);
    const measured = run.generate_peak_delta!;
    const withMin = generatePeak(dir, run, "--min-new-tokens", n);
    const error = withMin.peak / measured - 1;
    assert.ok(Math.abs(error) <= 0.02, `gpt2 ${run.dtype} b${run.batch}: ${withMin.peak} vs ${measured} (${(error * 100).toFixed(2)}%)`);
    assert.ok(!withMin.warnings.some((w) => w.includes("assumes all")), withMin.warnings.join("; "));
    // Without the flag the processors do not run: the prediction is lower, and says what it assumed.
    const without = generatePeak(dir, run);
    assert.ok(without.peak < withMin.peak, `b${run.batch}: ${without.peak} >= ${withMin.peak}`);
    assert.ok(Math.abs(without.peak / measured - 1) > Math.abs(error));
    assert.ok(without.warnings.some((w) => w.includes(`assumes all ${n} new tokens`)), without.warnings.join("; "));
    // --eos none: no eos token, so transformers adds no processor; memlens says the flag had no effect.
    const noEos = generatePeak(dir, run, "--min-new-tokens", n, "--eos", "none");
    assert.equal(noEos.peak, without.peak);
    assert.ok(noEos.warnings.some((w) => w.includes("runs no logits processor")), noEos.warnings.join("; "));
  }
});

test("--min-new-tokens and --eos belong to --mode generate; bad values are refused", () => {
  const dir = gpt2Folder();
  const refused = (args: string[], pattern: RegExp) => {
    const r = memlens("analyze", dir, ...args);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, pattern);
  };
  refused(["--min-new-tokens", "8"], /--min-new-tokens: only for --mode generate/);
  refused(["--eos", "50256"], /--eos: only for --mode generate/);
  refused(["--mode", "generate", "--eos", "eos"], /--eos eos: expected token ids/);
  refused(["--mode", "generate", "--min-new-tokens", "0"], /--min-new-tokens must be a positive integer/);
  const fit = memlens("fit", dir, "--mode", "generate", "--dim", "seq=128", "--min-new-tokens", "128", "--device", "t4");
  assert.equal(fit.code, 0, fit.stderr);
});
