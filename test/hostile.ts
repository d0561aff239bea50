/**
 * Hostile inputs for issue 12: files that are valid but built to explode (symbolic bombs, fan-out graphs,
 * deep or numerous subgraphs, absurd LLM configs, repeated metadata keys) and paths that are not regular
 * files (FIFOs, devices, directories, links to them). Each case is written into a folder and comes with the
 * CLI arguments that read it. Used by test/hostile.test.ts (the CLI under a time and RSS limit) and by the
 * fuzzers' "valid but huge" mutation class.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ProtoWriter } from "../src/formats/onnx/writer.js";
import { finishBytes } from "../src/formats/onnx/testing.js";
import { tinyLlamaGguf } from "../src/formats/gguf-testing.js";

export const FASHION_DIR = resolve(new URL("../../models/fashion-mobilenetv2", import.meta.url).pathname);
const FASHION_MODEL = join(FASHION_DIR, "model.onnx");
const FASHION_IMAGE = join(FASHION_DIR, "samples", "3_dress.png");

export interface HostileCase {
  name: string;
  /** memlens's arguments. */
  args: string[];
  /** Exit 0 is honest for this case (the file is valid and a bound applies with a warning). */
  mayAnalyse: boolean;
}

/** TensorProto.DataType FLOAT and BOOL, AttributeProto.AttributeType GRAPH and GRAPHS. */
const FLOAT = 1;
const BOOL = 9;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_GRAPH = 5;
const ATTR_GRAPHS = 10;

function valueInfo(name: string, dims: (number | string)[], elemType = FLOAT): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dw = new ProtoWriter();
    if (typeof d === "number") dw.int(1, d);
    else dw.string(2, d);
    shape.message(1, dw);
  }
  const tt = new ProtoWriter();
  tt.int(1, elemType);
  tt.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tt);
  const vi = new ProtoWriter();
  vi.string(1, name);
  vi.message(2, type);
  return vi;
}

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  graphAttrs?: Record<string, ProtoWriter>;
  intAttrs?: Record<string, number>;
}

function node(n: NodeSpec, k: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `n${k}`);
  w.string(4, n.op);
  for (const [name, v] of Object.entries(n.intAttrs ?? {})) {
    const a = new ProtoWriter();
    a.string(1, name);
    a.int(3, v);
    a.int(20, ATTR_INT);
    w.message(5, a);
  }
  for (const [name, g] of Object.entries(n.graphAttrs ?? {})) {
    const a = new ProtoWriter();
    a.string(1, name);
    a.message(6, g);
    a.int(20, ATTR_GRAPH);
    w.message(5, a);
  }
  return w;
}

function graph(name: string, nodes: NodeSpec[], inputs: ProtoWriter[], outputs: ProtoWriter[]): ProtoWriter {
  const g = new ProtoWriter();
  nodes.forEach((n, k) => g.message(1, node(n, k)));
  g.string(2, name);
  for (const i of inputs) g.message(11, i);
  for (const o of outputs) g.message(12, o);
  return g;
}

function modelBytes(g: ProtoWriter, opset = 17): Uint8Array {
  const m = new ProtoWriter();
  m.int(1, 8);
  m.string(2, "memlens-hostile");
  m.message(7, g);
  const o = new ProtoWriter();
  o.int(2, opset);
  m.message(8, o);
  return finishBytes(m);
}

/** An input whose dim_param is a product of sums, `(a+b)*(c+d)*...`: expanded, 2^factors terms. */
export function symbolBombOnnx(maxChars = 256): Uint8Array {
  const factors: string[] = [];
  for (let k = 0; ; k++) {
    const a = String.fromCharCode(97 + (k % 26)) + String.fromCharCode(97 + Math.floor(k / 26));
    const f = `(${a}+${a}z)`;
    if ([...factors, f].join("*").length > maxChars) break;
    factors.push(f);
  }
  const dim = factors.join("*");
  return modelBytes(graph("bomb", [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], [valueInfo("x", [dim, 4])], [valueInfo("y", [dim, 4])]));
}

/** Every node feeds every node of the next layer (width `width`), `depth` layers: width^depth paths. */
export function fanOutOnnx(width = 6, depth = 16): Uint8Array {
  const nodes: NodeSpec[] = [];
  let prev = ["x"];
  for (let d = 0; d < depth; d++) {
    const layer: string[] = [];
    for (let j = 0; j < width; j++) {
      const out = `l${d}_${j}`;
      nodes.push({ op: "Sum", inputs: prev, outputs: [out] });
      layer.push(out);
    }
    prev = layer;
  }
  nodes.push({ op: "Sum", inputs: prev, outputs: ["y"] });
  return modelBytes(graph("fan", nodes, [valueInfo("x", ["batch", 8])], [valueInfo("y", ["batch", 8])]));
}

/**
 * Shape arithmetic fanning out: Shape of an input with two symbolic dims, then `depth` layers of `width`
 * nodes, each adding or multiplying two of the layer before: the symbolic values double in degree every
 * other layer and their terms multiply.
 */
export function fanOutValuesOnnx(width = 6, depth = 16): Uint8Array {
  const nodes: NodeSpec[] = [{ op: "Shape", inputs: ["x"], outputs: ["s"] }];
  let prev = Array.from({ length: width }, () => "s");
  for (let d = 0; d < depth; d++) {
    const layer = prev.map((_, j) => `v${d}_${j}`);
    layer.forEach((out, j) => nodes.push({ op: d % 2 ? "Mul" : "Add", inputs: [prev[j]!, prev[(j + 1) % width]!], outputs: [out] }));
    prev = layer;
  }
  nodes.push({ op: "Reshape", inputs: ["x", prev[0]!], outputs: ["y"] });
  return modelBytes(graph("fan-values", nodes, [valueInfo("x", ["a", "b"])], [valueInfo("y", ["c", "d"])]));
}

/**
 * Loop bodies nested `depth` deep, each carrying one tensor through an inner Loop and doubling it (Concat of
 * it with itself): a carried shape that changes per iteration, so each body is inferred twice per visit.
 */
export function nestedLoopsOnnx(depth = 30): Uint8Array {
  const body = (level: number): ProtoWriter => {
    const inner: NodeSpec[] = [{ op: "Identity", inputs: [`c${level}`], outputs: [`co${level}`] }];
    if (level + 1 < depth) {
      inner.push({ op: "Loop", inputs: ["", `co${level}`, `v${level}`], outputs: [`w${level}`], graphAttrs: { body: body(level + 1) } });
    } else inner.push({ op: "Identity", inputs: [`v${level}`], outputs: [`w${level}`] });
    inner.push({ op: "Concat", inputs: [`w${level}`, `w${level}`], outputs: [`vo${level}`], intAttrs: { axis: 0 } });
    const bool = (name: string) => valueInfo(name, [], BOOL);
    return graph(`body${level}`, inner, [valueInfo(`i${level}`, [], INT64), bool(`c${level}`), valueInfo(`v${level}`, ["batch", 4])], [bool(`co${level}`), valueInfo(`vo${level}`, ["batch", 4])]);
  };
  const top: NodeSpec[] = [
    { op: "Identity", inputs: ["cond"], outputs: ["c"] },
    { op: "Loop", inputs: ["", "c", "x"], outputs: ["y"], graphAttrs: { body: body(0) } },
  ];
  return modelBytes(graph("loops", top, [valueInfo("x", ["batch", 4]), valueInfo("cond", [], BOOL)], [valueInfo("y", ["batch", 4])]));
}

/** A model whose one initializer lives in the external file `location` (TensorProto.external_data, data_location EXTERNAL). */
export function externalDataOnnx(location: string): Uint8Array {
  const t = new ProtoWriter();
  t.packedInts(1, [4]);
  t.int(2, FLOAT);
  t.string(8, "w");
  const entry = (k: string, v: string) => {
    const e = new ProtoWriter();
    e.string(1, k);
    e.string(2, v);
    return e;
  };
  t.message(13, entry("location", location));
  t.message(13, entry("length", "16"));
  t.int(14, 1);
  const g = graph("external", [{ op: "Add", inputs: ["x", "w"], outputs: ["y"] }], [valueInfo("x", [4])], [valueInfo("y", [4])]);
  g.message(5, t);
  return modelBytes(g);
}

/** Protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field around `body` (tag, length, bytes). */
function lenField(field: number, body: Uint8Array): Uint8Array {
  const head = [...varint((field << 3) | 2), ...varint(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One node whose GRAPHS attribute holds `count` empty GraphProtos (2 bytes each on disk). */
export function manySubgraphsOnnx(count = 16_000_000): Uint8Array {
  const empties = new Uint8Array(2 * count);
  for (let i = 0; i < count; i++) empties[2 * i] = (11 << 3) | 2; // AttributeProto.graphs, length 0
  const te = new TextEncoder();
  const attr = concat([lenField(1, te.encode("branches")), empties, new Uint8Array([...varint((20 << 3) | 0), ATTR_GRAPHS])]);
  const nodeBytes = concat([lenField(1, te.encode("x")), lenField(2, te.encode("y")), lenField(4, te.encode("Identity")), lenField(5, attr)]);
  const g = concat([lenField(1, nodeBytes), lenField(2, te.encode("many")), finishBytes(wrap(11, valueInfo("x", [1]))), finishBytes(wrap(12, valueInfo("y", [1])))]);
  const opset = new Uint8Array([(8 << 3) | 2, 2, (2 << 3) | 0, 17]);
  return concat([new Uint8Array([(1 << 3) | 0, 8]), lenField(7, g), opset]);
}

function wrap(field: number, sub: ProtoWriter): ProtoWriter {
  const w = new ProtoWriter();
  w.message(field, sub);
  return w;
}

/** The tiny Llama GGUF with `llama.block_count` repeated (a second value) or replaced by a uint64. */
function ggufRepeatedKey(second: number): Uint8Array {
  return tinyLlamaGguf((kv) => [...kv, ["llama.block_count", second]]).bytes;
}

function ggufLayers(layers: bigint): Uint8Array {
  return tinyLlamaGguf((kv) => kv.map(([k, v]) => [k, k === "llama.block_count" ? layers : v])).bytes;
}

/** A small Llama config.json with `layers` layers. */
export function llamaConfig(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model_type: "llama", hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2,
    num_hidden_layers: 2, vocab_size: 256, max_position_embeddings: 512, torch_dtype: "float16", eos_token_id: 2,
    ...overrides,
  });
}

function mkfifo(path: string): void {
  execFileSync("mkfifo", [path]);
}

/** Write every hostile case of issue 12's table (and a few more special files) into `dir`. */
export function writeHostileCases(dir: string): HostileCase[] {
  const cases: HostileCase[] = [];
  const sub = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d);
    return d;
  };
  const file = (name: string, bytes: Uint8Array | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  cases.push({ name: "onnx dim_param (a+b)*(c+d)*...", args: ["analyze", file("symbol-bomb.onnx", symbolBombOnnx())], mayAnalyse: true });
  cases.push({ name: "onnx fan-out 6 wide, 16 deep", args: ["analyze", file("fan-out.onnx", fanOutOnnx())], mayAnalyse: true });
  cases.push({ name: "onnx shape arithmetic fan-out 6 wide, 16 deep", args: ["analyze", file("fan-out-values.onnx", fanOutValuesOnnx())], mayAnalyse: true });
  cases.push({ name: "onnx Loop bodies nested 30 deep", args: ["analyze", file("nested-loops.onnx", nestedLoopsOnnx())], mayAnalyse: true });
  cases.push({ name: "onnx 16 million empty subgraphs", args: ["analyze", file("many-subgraphs.onnx", manySubgraphsOnnx())], mayAnalyse: false });
  cases.push({ name: "gguf repeated llama.block_count (100000)", args: ["analyze", file("repeated-key.gguf", ggufRepeatedKey(100_000))], mayAnalyse: false });
  cases.push({ name: "gguf block_count 10^12", args: ["analyze", file("huge-layers.gguf", ggufLayers(10n ** 12n))], mayAnalyse: false });
  for (const [label, layers] of [["10^5", 1e5], ["10^6", 1e6], ["10^12", 1e12]] as const) {
    const d = sub(`layers-${label.replace("^", "e")}`);
    writeFileSync(join(d, "config.json"), llamaConfig({ num_hidden_layers: layers }));
    cases.push({ name: `config.json num_hidden_layers ${label}`, args: ["analyze", join(d, "config.json")], mayAnalyse: false });
  }
  const zeroCfg = sub("config-dev-zero");
  symlinkSync("/dev/zero", join(zeroCfg, "config.json"));
  cases.push({ name: "config.json -> /dev/zero", args: ["analyze", join(zeroCfg, "config.json")], mayAnalyse: false });

  const fifoCfg = sub("config-fifo");
  mkfifo(join(fifoCfg, "config.json"));
  cases.push({ name: "config.json is a FIFO", args: ["analyze", fifoCfg], mayAnalyse: false });
  const fifoSt = sub("safetensors-fifo");
  writeFileSync(join(fifoSt, "config.json"), llamaConfig());
  mkfifo(join(fifoSt, "model.safetensors"));
  cases.push({ name: "model.safetensors is a FIFO", args: ["analyze", fifoSt], mayAnalyse: false });
  const fifoSide = sub("sidecar-fifo");
  symlinkSync(FASHION_MODEL, join(fifoSide, "model.onnx"));
  mkfifo(join(fifoSide, "model.json"));
  cases.push({ name: "model.json is a FIFO", args: ["predict", join(fifoSide, "model.onnx"), FASHION_IMAGE], mayAnalyse: false });
  const fifoImage = join(dir, "image-fifo.png");
  mkfifo(fifoImage);
  cases.push({ name: "image is a FIFO", args: ["predict", FASHION_MODEL, fifoImage], mayAnalyse: false });
  const zeroSide = sub("sidecar-dev-zero");
  symlinkSync(FASHION_MODEL, join(zeroSide, "model.onnx"));
  symlinkSync("/dev/zero", join(zeroSide, "model.json"));
  cases.push({ name: "model.json -> /dev/zero", args: ["predict", join(zeroSide, "model.onnx"), FASHION_IMAGE], mayAnalyse: false });
  const zeroImage = join(dir, "image-dev-zero.png");
  symlinkSync("/dev/zero", zeroImage);
  cases.push({ name: "image -> /dev/zero", args: ["predict", FASHION_MODEL, zeroImage], mayAnalyse: false });

  // Beyond the table: the model itself as a FIFO, a directory, a device; external data as a FIFO.
  const fifoModel = join(dir, "model-fifo.onnx");
  mkfifo(fifoModel);
  cases.push({ name: "model.onnx is a FIFO", args: ["analyze", fifoModel], mayAnalyse: false });
  const ext = sub("external-fifo");
  writeFileSync(join(ext, "model.onnx"), externalDataOnnx("w.bin"));
  mkfifo(join(ext, "w.bin"));
  cases.push({ name: "external data is a FIFO", args: ["analyze", join(ext, "model.onnx")], mayAnalyse: false });
  const extZero = sub("external-dev-zero");
  writeFileSync(join(extZero, "model.onnx"), externalDataOnnx("w.bin"));
  symlinkSync("/dev/zero", join(extZero, "w.bin"));
  cases.push({ name: "external data -> /dev/zero", args: ["analyze", join(extZero, "model.onnx")], mayAnalyse: false });
  const dirModel = join(dir, "folder.onnx");
  mkdirSync(dirModel);
  cases.push({ name: "model.onnx is a directory", args: ["analyze", dirModel], mayAnalyse: false });
  const zeroModel = join(dir, "model-dev-zero.onnx");
  symlinkSync("/dev/zero", zeroModel);
  cases.push({ name: "model.onnx -> /dev/zero", args: ["analyze", zeroModel], mayAnalyse: false });
  const zeroGguf = join(dir, "model-dev-zero.gguf");
  symlinkSync("/dev/zero", zeroGguf);
  cases.push({ name: "model.gguf -> /dev/zero", args: ["analyze", zeroGguf], mayAnalyse: false });
  return cases;
}
