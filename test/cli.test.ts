/**
 * The CLI as a user runs it: `node bin/memlens.js ...` in a child process, checked on stdout, stderr and
 * the exit code (0 ok, 1 usage error, 2 unreadable or invalid model: one line, no stack trace).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LEGACY_FIXTURES, DYNAMO_FIXTURES } from "../bench/shared.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LEGACY = LEGACY_FIXTURES;
const DYNAMO = DYNAMO_FIXTURES;
const FASHION = join(ROOT, "models/fashion-mobilenetv2/model.onnx");

function memlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface AnalyzeJson {
  schema: string;
  model: { file: string; format: string; producer: string; opsets: Record<string, number>; nodes: number; parameters: number; weightBytes: number };
  settings: { batch: number; inputs: Record<string, (number | string)[]>; dims?: Record<string, number> };
  layers: { name: string; op: string; outputs: { name: string; shape: (number | string)[] | null; dtype: string | null; bytes: number | null }[] }[];
}

function analyzeJson(...args: string[]): AnalyzeJson {
  const r = memlens("analyze", ...args, "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AnalyzeJson;
}

/** Exactly one line on stderr, starting with "memlens:", and nothing that looks like a stack frame. */
function assertOneLineError(stderr: string): void {
  const lines = stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `stderr: ${stderr}`);
  assert.match(lines[0]!, /^memlens: /);
  assert.doesNotMatch(stderr, /\bat .+:\d+:\d+/);
}

/**
 * An independent count of initializers, straight from the protobuf wire format (ModelProto.graph = 7,
 * GraphProto.initializer = 5, TensorProto.dims = 1, data_type = 2): it shares no code with the reader.
 */
function countInitializers(bytes: Uint8Array): { parameters: number; weightBytes: number } {
  const BITS: Record<number, number> = { 1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 16: 16 };
  const varint = (b: Uint8Array, p: number): [number, number] => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const byte = b[p++]!;
      v += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return [v, p];
    }
  };
  /** Calls `on(field, wire, value-or-payload-start, payload-end)` for each field of the message b[start, end). */
  const fields = (b: Uint8Array, start: number, end: number, on: (f: number, wire: number, v: number, s: number, e: number) => void) => {
    let p = start;
    while (p < end) {
      const [tag, p1] = varint(b, p);
      const f = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === 0) {
        const [v, p2] = varint(b, p1);
        on(f, wire, v, p1, p2);
        p = p2;
      } else if (wire === 2) {
        const [len, p2] = varint(b, p1);
        on(f, wire, len, p2, p2 + len);
        p = p2 + len;
      } else if (wire === 5) p = p1 + 4;
      else if (wire === 1) p = p1 + 8;
      else throw new Error(`wire ${wire}`);
    }
  };
  let parameters = 0;
  let weightBytes = 0;
  const tensor = (gs: number, ge: number) => {
    const dims: number[] = [];
    let type = 0;
    fields(bytes, gs, ge, (tf, tw, tv, ts, te) => {
      if (tf === 1 && tw === 0) dims.push(tv);
      else if (tf === 1 && tw === 2) for (let p = ts; p < te; ) [dims[dims.length], p] = varint(bytes, p);
      else if (tf === 2 && tw === 0) type = tv;
    });
    const n = dims.reduce((a, d) => a * d, 1);
    parameters += n;
    weightBytes += (n * BITS[type]!) / 8;
  };
  const decoder = new TextDecoder();
  fields(bytes, 0, bytes.length, (f, w, _v, s, e) => {
    if (f !== 7 || w !== 2) return;
    fields(bytes, s, e, (gf, gw, _gv, gs, ge) => {
      // GraphProto.initializer (5), and NodeProto (1) of op_type (4) Constant: its attribute (5) `value` tensor (5).
      if (gf === 5 && gw === 2) tensor(gs, ge);
      if (gf !== 1 || gw !== 2) return;
      let op = "";
      const attrs: [number, number][] = [];
      fields(bytes, gs, ge, (nf, nw, _nv, ns, ne) => {
        if (nf === 4 && nw === 2) op = decoder.decode(bytes.subarray(ns, ne));
        if (nf === 5 && nw === 2) attrs.push([ns, ne]);
      });
      if (op !== "Constant") return;
      for (const [as, ae] of attrs) fields(bytes, as, ae, (af, aw, _av, ts, te) => af === 5 && aw === 2 && tensor(ts, te));
    });
  });
  return { parameters, weightBytes };
}

test("layers prints the per-layer table, and --batch changes its shapes", () => {
  const r = memlens("layers", `${LEGACY}/resnet18.onnx`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const lines = r.stdout.split("\n");
  assert.ok(lines.some((l) => /^layer\s+op\s+output shapes\s+activation\s+params\s+FLOPs$/.test(l)), r.stdout.slice(0, 500));
  const conv = lines.find((l) => /^\/conv1\/Conv\s+Conv\s/.test(l));
  assert.ok(conv, "the first Conv's row");
  assert.match(conv!, /\s\[1,64,112,112\]\s/);
  // One row per node (65), below the header.
  assert.equal(lines.filter((l) => /^\S+\s+(Conv|Relu|MaxPool|Add|GlobalAveragePool|Flatten|Gemm|Identity)\s/.test(l)).length, 65);
  const b4 = memlens("layers", `${LEGACY}/resnet18.onnx`, "--batch", "4");
  assert.equal(b4.code, 0, b4.stderr);
  assert.match(b4.stdout, /^\/conv1\/Conv\s+Conv\s+\[4,64,112,112\]/m);
});

test("analyze --json prints one JSON object: schema, model, settings, layers", () => {
  const r = memlens("analyze", `${LEGACY}/resnet18.onnx`, "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 1, "stdout holds one JSON object and nothing else");
  const j = JSON.parse(r.stdout) as AnalyzeJson;
  assert.equal(j.schema, "memlens/analysis@1");
  assert.deepEqual(
    { file: j.model.file, format: j.model.format, producer: j.model.producer, opsets: j.model.opsets, nodes: j.model.nodes },
    { file: "resnet18.onnx", format: "onnx", producer: "pytorch 1.13.0", opsets: { "": 17 }, nodes: 65 },
  );
  assert.equal(j.settings.batch, 1);
  assert.deepEqual(j.settings.inputs, { input: [1, 3, 224, 224] });
  assert.equal(j.layers.length, 65);
  const last = j.layers[j.layers.length - 1]!;
  assert.deepEqual(last.outputs[0], { name: "logits", shape: [1, 1000], dtype: "fp32", bytes: 4000 });
});

test("weightBytes and parameters equal an independent count of the initializers and Constant node tensors", () => {
  for (const file of [`${LEGACY}/resnet18.onnx`, `${DYNAMO}/gpt2.onnx`, `${DYNAMO}/bert-base.onnx`, FASHION]) {
    const expected = countInitializers(new Uint8Array(readFileSync(file)));
    assert.ok(expected.parameters > 1e6, `${file}: the independent count found ${expected.parameters} parameters`);
    const j = analyzeJson(file);
    assert.deepEqual({ parameters: j.model.parameters, weightBytes: j.model.weightBytes }, expected, file);
  }
});

test("--input replaces an input's shape; --batch and --dim bind symbolic dims", () => {
  const small = analyzeJson(`${LEGACY}/resnet18.onnx`, "--input", "input=2x3x64x64");
  assert.deepEqual(small.settings.inputs, { input: [2, 3, 64, 64] });
  assert.deepEqual(small.layers.find((l) => l.op === "Conv")!.outputs[0]!.shape, [2, 64, 32, 32]);
  assert.deepEqual(small.layers[small.layers.length - 1]!.outputs[0]!.shape, [2, 1000]);

  const bert = analyzeJson(`${DYNAMO}/bert-base.onnx`, "--batch", "3", "--dim", "seq=64");
  assert.deepEqual(bert.settings.inputs, { input_ids: [3, 64] });
  const shapes = bert.layers.flatMap((l) => l.outputs.map((o) => JSON.stringify(o.shape)));
  assert.ok(shapes.includes("[3,64,768]"), "hidden states at batch 3, seq 64");
  const longer = analyzeJson(`${DYNAMO}/bert-base.onnx`, "--batch", "3", "--dim", "seq=128");
  assert.ok(longer.layers.flatMap((l) => l.outputs.map((o) => JSON.stringify(o.shape))).includes("[3,128,768]"));
  assert.ok(!longer.layers.flatMap((l) => l.outputs.map((o) => JSON.stringify(o.shape))).includes("[3,64,768]"));
});

test("unreadable models: one line on stderr, exit 2", () => {
  const dir = tempDir("cli");
  try {
    writeFileSync(join(dir, "empty.onnx"), new Uint8Array(0));
    writeFileSync(join(dir, "text.onnx"), "this is not a model\n".repeat(20));
    const whole = readFileSync(`${LEGACY}/resnet18.onnx`);
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    writeFileSync(join(dir, "truncated.onnx"), truncated);
    const cases: [string, RegExp][] = [
      [join(dir, "missing.onnx"), /ENOENT|not found|cannot read/],
      // A folder opens its one model or names them (test/model-path.test.ts): this one holds three.
      [dir, /is a folder with 3 models \(empty\.onnx, text\.onnx, truncated\.onnx\): name one/],
      [join(dir, "empty.onnx"), /empty file/],
      [join(dir, "text.onnx"), /corrupt|not an ONNX model/],
      [join(dir, "truncated.onnx"), /corrupt|truncated/],
    ];
    for (const [path, why] of cases) {
      for (const cmd of ["analyze", "layers"]) {
        const r = memlens(cmd, path, "--json");
        assert.equal(r.code, 2, `${cmd} ${path}: ${r.stderr}`);
        assert.equal(r.stdout, "");
        assertOneLineError(r.stderr);
        assert.match(r.stderr, why);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad usage: exit 1 with one line", () => {
  const model = `${LEGACY}/resnet18.onnx`;
  for (const args of [
    ["frobnicate", model],
    ["analyze"],
    ["analyze", model, "--batch", "zero"],
    ["analyze", model, "--batch", "0"],
    ["analyze", model, "--input", "input"],
    ["analyze", model, "--input", "nosuchinput=1x3x8x8"],
    ["analyze", model, "--dim", "seq"],
    ["layers", model, "--dim", "seq=-3"],
  ]) {
    const r = memlens(...args);
    assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
    assertOneLineError(r.stderr);
  }
});
