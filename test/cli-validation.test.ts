/**
 * Bad values are refused, not passed on: a flag a command does not declare, a mode or runtime it does not have,
 * a runtime/dtype/device pair the runtime table does not list. Help lists what the tables hold, and every value it
 * lists runs. Colour only on a terminal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DYNAMO_FIXTURES } from "../bench/shared.js";
import { useColour } from "../src/cli/main.js";
import { editDistance } from "../src/cli/flags.js";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { RUNTIME_IDS, devicesFor, runtimeSpec, ALL_DTYPES } from "../src/memory/runtime-table.js";
import { DEVICES } from "../src/memory/devices.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FASHION = join(ROOT, "models/fashion-mobilenetv2/model.onnx");

function memlens(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function refused(args: string[], pattern: RegExp): void {
  const r = memlens(args);
  assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

test("--mode foo is refused, naming the modes", () => {
  refused(["analyze", FASHION, "--mode", "foo"], /--mode.*foo.*inference, train, generate/);
  // generate is an LLM mode: an ONNX graph says where it belongs.
  refused(["analyze", FASHION, "--mode", "generate"], /--mode generate: pytorch-cuda runs inference, train \(generate is for LLMs/);
});

test("unknown flags are refused with the nearest flag", () => {
  refused(["analyze", FASHION, "--batchsize", "8"], /unknown flag --batchsize \(did you mean --batch\?\)/);
  refused(["fit", FASHION, "--devcie", "t4"], /unknown flag --devcie \(did you mean --device\?\)/);
  refused(["predict", FASHION, "x.png", "--random-weights"], /unknown flag --random-weights/);
  refused(["quantize", FASHION, "-x"], /unknown flag -x \(flags: --output/);
  assert.equal(editDistance("batchsize", "batch"), 4);
  // Declared flags, a boolean's --no- form, an alias and a value that starts with a dash still parse.
  const ok = memlens(["analyze", FASHION, "--batch", "2", "--no-json", "--runtime", "ort-cpu"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("--runtime ort-cpu without --device is on the host CPU, not an h100", () => {
  const r = memlens(["analyze", FASHION, "--runtime", "ort-cpu"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.split("\n")[0]!, /ort-cpu on cpu/);
  assert.doesNotMatch(r.stdout, /h100/);
});

test("a runtime/dtype or runtime/device pair the runtime does not run: one line naming what it does", () => {
  refused(["analyze", FASHION, "--runtime", "ort-cpu", "--dtype", "fp16"], /--dtype fp16: ort-cpu runs fp32/);
  refused(["analyze", FASHION, "--runtime", "ort-cpu", "--device", "h100"], /--device h100: ort-cpu runs on cpu/);
  refused(["analyze", FASHION, "--device", "cpu"], /--device cpu: pytorch-cuda runs on h200, h100/);
  refused(["analyze", FASHION, "--runtime", "ort-cuda"], /--runtime.*ort-cuda.*pytorch-cuda, ort-cpu/);
  refused(["analyze", FASHION, "--dtype", "int8"], /--dtype.*int8.*fp32, fp16, bf16/);
});

test("help lists the runtime, device and dtype tables, and every listed value runs", () => {
  const help = memlens(["analyze", "--help"]).stdout;
  for (const id of RUNTIME_IDS) assert.ok(help.includes(id), id);
  for (const d of DEVICES) assert.ok(help.includes(d.id), d.id);
  for (const t of ALL_DTYPES) assert.ok(help.includes(t), t);
  assert.doesNotMatch(help, /ort-cuda/);
  const { model, openExternal } = loadModelFile(FASHION);
  // Runtimes that read an ONNX graph (llama.cpp reads GGUF headers: test/llamacpp-cli.test.ts).
  for (const id of RUNTIME_IDS.filter((r) => runtimeSpec(r).sources.includes("onnx"))) {
    const spec = runtimeSpec(id);
    for (const dtype of spec.dtypes) for (const device of devicesFor(spec)) for (const mode of spec.modes) {
      const { report } = analyzeModel(model, { runtime: id, dtype, device, mode, openExternal, memory: true });
      assert.ok(report.memory && report.memory.total > 0, `${id} ${dtype} ${device} ${mode}`);
    }
  }
  // Every value some runtime lists is listed by one: nothing in help is refused by every runtime.
  for (const t of ALL_DTYPES) assert.ok(RUNTIME_IDS.some((id) => runtimeSpec(id).dtypes.includes(t)), t);
  for (const d of DEVICES) assert.ok(RUNTIME_IDS.some((id) => devicesFor(runtimeSpec(id)).includes(d.id)), d.id);
});

test("help has colour only on a terminal, and never with NO_COLOR", () => {
  const piped = memlens(["analyze", "--help"]);
  assert.equal(piped.code, 0);
  assert.doesNotMatch(piped.stdout, /\u001b\[/);
  assert.equal(useColour({}, true), true);
  assert.equal(useColour({}, false), false);
  assert.equal(useColour({ NO_COLOR: "yes" }, true), false);
  assert.equal(useColour({ NO_COLOR: "1" }, true), false);
  assert.equal(useColour({ TERM: "dumb" }, true), false);
});

test("npm install skips onnxruntime-node's CUDA download through npm's allowScripts, not an unknown .npmrc key", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.["onnxruntime-node"], false);
  const npmrc = join(ROOT, ".npmrc");
  if (existsSync(npmrc)) assert.doesNotMatch(readFileSync(npmrc, "utf8"), /onnxruntime-node-install/);
});

test("predict on a model whose weights are absent names the file, and suggests no flag predict lacks", () => {
  const sample = join(ROOT, "models/fashion-mobilenetv2/samples/0_t-shirt-top.png");
  const r = memlens(["predict", join(DYNAMO_FIXTURES, "resnet18.onnx"), sample, "--resize"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /weights file 'resnet18\.onnx\.data' is missing: predictions need the model's trained weights/);
  assert.doesNotMatch(r.stderr, /random/);
});

test("fit --solve seq: refused on a model without a sequence, capped at a language model's positions", () => {
  refused(["fit", FASHION, "--solve", "seq"], /--solve seq: model\.onnx has no sequence dimension 'seq' among its inputs; use --solve batch/);
  const r = memlens(["fit", join(DYNAMO_FIXTURES, "gpt2.onnx"), "--solve", "seq"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /largest context length \(seq\) on h100: 1024,/);
  assert.match(r.stdout, /note: capped at the model's 1,024 positions \(position table transformer\.wpe\.weight\)/);
});

test("fit --solve batch on a graph with a seq dimension says which seq it assumed", () => {
  const r = memlens(["fit", join(DYNAMO_FIXTURES, "gpt2.onnx"), "--device", "t4"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /largest batch on t4: \d+,/);
  assert.match(r.stdout, /warning: dimension 'seq' not set: using 128 \(set it with --dim seq=N\)/);
  // Given, it is not assumed.
  const given = memlens(["fit", join(DYNAMO_FIXTURES, "gpt2.onnx"), "--device", "t4", "--dim", "seq=256"]);
  assert.equal(given.code, 0, given.stderr);
  assert.doesNotMatch(given.stdout, /not set/);
});
