import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DYNAMO_FIXTURES } from "../../bench/shared.js";
import { tempDir } from "../../test/temp.js";

const MODEL = join(DYNAMO_FIXTURES, "resnet18.onnx");
const cli = (...args: string[]) => spawnSync(process.execPath, ["bin/memlens.js", ...args], { encoding: "utf8" });

test("analyze --html writes one self-contained page whose headline is analyze --json's peak", () => {
  const dir = tempDir("html");
  try {
    const out = join(dir, "r.html");
    const run = cli("analyze", MODEL, "--batch", "4", "--html", out);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /wrote .*r\.html \(\d+ bytes\)/);
    const json = JSON.parse(cli("analyze", MODEL, "--batch", "4", "--json").stdout) as { memory: { peakAllocated: number; total: number } };
    const html = readFileSync(out, "utf8");
    assert.match(html, new RegExp(`data-testid="peak-allocated" data-bytes="${json.memory.peakAllocated}"`));
    assert.match(html, new RegExp(`data-testid="total" data-bytes="${json.memory.total}"`));
    assert.ok(html.length < 1_000_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("analyze --html refuses to write over the model", () => {
  const run = cli("analyze", MODEL, "--html", MODEL);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /refusing to write over it/);
});
