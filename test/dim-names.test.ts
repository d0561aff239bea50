/**
 * `--dim` takes every dimension name a model uses, and every name memlens itself suggests: paddle2onnx's
 * dotted `p2o.DynamicDimension.N`, the `unk__N` names given to a spox export's unnamed dims, names with
 * colons or spaces (quoted in the suggestion, as a shell needs them).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipForeign } from "../bench/ort-measure.js";
import { dimArgument } from "../src/analyze.js";
import { parseDimSpec } from "../src/cli/options.js";

/** What a POSIX shell makes of a word quoted like dimArgument quotes it. */
function shellUnquote(word: string): string {
  return word.replace(/'((?:[^']|'\\'')*)'/g, (_m, inner: string) => inner.replace(/'\\''/g, "'"));
}

function analyze(file: string, ...args: string[]): { warnings: string[]; inputs: Record<string, number[]> } {
  const r = spawnSync(process.execPath, ["bin/memlens.js", "analyze", file, "--json", "--runtime", "ort-cpu", "--device", "cpu", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { warnings: string[]; settings: { inputs: Record<string, number[]> } };
  return { warnings: j.warnings, inputs: j.settings.inputs };
}

test("every --dim memlens suggests for the foreign models is accepted and binds its dimension", () => {
  const dir = mkdtempSync(join(tmpdir(), "memlens-dims-"));
  try {
    let suggested = 0;
    for (const name of ["ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "silero_vad_v5.onnx"]) {
      const file = unzipForeign(name, dir);
      const first = analyze(file);
      const dims = first.warnings.flatMap((w) => [.../set it with --dim (.+)=N\)/.exec(w)?.slice(1) ?? []]);
      assert.ok(dims.length > 0, `${name}: memlens suggests --dim for its symbolic dims`);
      suggested += dims.length;
      const args = dims.flatMap((d, i) => ["--dim", `${shellUnquote(d)}=${40 + i}`]);
      const second = analyze(file, ...args);
      assert.deepEqual(second.warnings.filter((w) => w.includes("not set")), [], `${name}: ${args.join(" ")}`);
      const bound = Object.values(second.inputs).flat();
      dims.forEach((_d, i) => assert.ok(bound.includes(40 + i), `${name}: dimension ${dims[i]} bound to ${40 + i} (${JSON.stringify(second.inputs)})`));
    }
    assert.ok(suggested >= 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--dim NAME=N: dots, colons and spaces in NAME; the value after the last '='", () => {
  assert.deepEqual(parseDimSpec("p2o.DynamicDimension.1=640"), ["p2o.DynamicDimension.1", 640]);
  assert.deepEqual(parseDimSpec("batch:0=4"), ["batch:0", 4]);
  assert.deepEqual(parseDimSpec("sequence length=512"), ["sequence length", 512]);
  assert.deepEqual(parseDimSpec("a=b=3"), ["a=b", 3]);
  assert.throws(() => parseDimSpec("=3"));
  assert.throws(() => parseDimSpec("seq=0"));
  assert.throws(() => parseDimSpec("seq"));
  for (const name of ["p2o.DynamicDimension.1", "batch:0", "sequence length", "it's"]) assert.equal(shellUnquote(dimArgument(name)), name);
  assert.equal(dimArgument("sequence length"), "'sequence length'");
});
