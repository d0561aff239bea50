/**
 * ONNX ModelProto -> IR, reading only the graph's structure. Field numbers are from onnx/onnx.proto.
 * Weight payloads (raw_data) are recorded as spans and skipped; typed data fields (float_data, int64_data)
 * are recorded as the span of their TensorProto and decoded only when a value is asked for.
 */
import { ModelFormatError } from "../../errors.js";
import { byteSize, dtypeFromCode, type DType } from "../../graph/dtype.js";
import type { Attr, Graph, Model, Node, Tensor, TensorData, ValueInfo, ValueType } from "../../graph/ir.js";
import { normaliseDomain } from "../../graph/ir.js";
import { parseDim, type Dim } from "../../sym/expr.js";
import type { ByteSource } from "../source.js";
import { ProtoReader, WIRE_LEN } from "./proto.js";
import { inlineFunctions, type FunctionDef } from "./functions.js";

/** Subgraphs (If/Loop/Scan bodies) nest; deeper than this is not a real model. */
export const MAX_GRAPH_DEPTH = 32;
/** A tensor with more elements than a double can count exactly is not a real tensor. */
export const MAX_ELEMENTS = 2 ** 53;

export function decodeModel(src: ByteSource, file: string): Model {
  const r = new ProtoReader(src);
  let irVersion = 0;
  let producerName = "";
  let producerVersion = "";
  let graph: Graph | undefined;
  const opsets: Record<string, number> = {};
  const metadata: Record<string, string> = {};
  const functions: FunctionDef[] = [];
  const warnings: string[] = [];
  let sawAny = false;
  while (!r.done()) {
    const [field, wire] = r.tag();
    sawAny = true;
    switch (field) {
      case 1:
        irVersion = r.varint();
        break;
      case 2:
        producerName = expectLen(r, wire, "producer_name").string();
        break;
      case 3:
        producerVersion = expectLen(r, wire, "producer_version").string();
        break;
      case 7:
        graph = expectLen(r, wire, "graph").message((m) => readGraph(m, src, 0));
        break;
      case 8: {
        const [domain, version] = expectLen(r, wire, "opset_import").message(readOpset);
        opsets[normaliseDomain(domain)] = version;
        break;
      }
      case 14: {
        const [k, v] = expectLen(r, wire, "metadata_props").message(readStringPair);
        metadata[k] = v;
        break;
      }
      case 25:
        functions.push(expectLen(r, wire, "functions").message((m) => readFunction(m, src)));
        break;
      default:
        r.skip(wire);
    }
  }
  if (!sawAny || !graph) throw new ModelFormatError("not an ONNX model: no graph found");
  if (irVersion <= 0 || irVersion > 100) throw new ModelFormatError(`not an ONNX model: ir_version ${irVersion}`);
  if (!("" in opsets) && irVersion >= 3) {
    warnings.push("model declares no ai.onnx opset; assuming opset 1 semantics where it matters");
  }
  if (functions.length > 0) {
    graph = inlineFunctions(graph, functions, opsets, warnings);
  }
  const producer = [producerName, producerVersion].filter((s) => s !== "").join(" ");
  return { format: "onnx", file, irVersion, producer, opsets, graph, metadata, warnings };
}

function expectLen(r: ProtoReader, wire: number, what: string): ProtoReader {
  if (wire !== WIRE_LEN) throw new ModelFormatError(`corrupt ONNX: ${what} has wire type ${wire}`);
  return r;
}

function readOpset(r: ProtoReader): [string, number] {
  let domain = "";
  let version = 0;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) domain = r.string();
    else if (f === 2) version = r.varint();
    else r.skip(w);
  }
  return [domain, version];
}

function readStringPair(r: ProtoReader): [string, string] {
  let k = "";
  let v = "";
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) k = r.string();
    else if (f === 2 && w === WIRE_LEN) v = r.string();
    else r.skip(w);
  }
  return [k, v];
}

export function readGraph(r: ProtoReader, src: ByteSource, depth: number): Graph {
  if (depth > MAX_GRAPH_DEPTH) throw new ModelFormatError(`subgraphs nested deeper than ${MAX_GRAPH_DEPTH}`);
  const g: Graph = { name: "", nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        g.nodes.push(r.message((m) => readNode(m, src, depth)));
        break;
      case 2:
        g.name = r.string();
        break;
      case 5: {
        const t = r.message((m) => readTensor(m, src));
        g.initializers.set(t.name, t);
        break;
      }
      case 11:
        g.inputs.push(r.message(readValueInfo));
        break;
      case 12:
        g.outputs.push(r.message(readValueInfo));
        break;
      case 13: {
        const vi = r.message(readValueInfo);
        g.valueInfo.set(vi.name, vi);
        break;
      }
      case 15: {
        // SparseTensorProto: values 1, indices 2, dims 3. Its dense size is what the runtime materialises.
        const t = r.message((m) => readSparse(m, src));
        g.initializers.set(t.name, t);
        break;
      }
      default:
        r.skip(w);
    }
  }
  return g;
}

function readNode(r: ProtoReader, src: ByteSource, depth: number): Node {
  const n: Node = { name: "", opType: "", domain: "", inputs: [], outputs: [], attrs: {} };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        n.inputs.push(r.string());
        break;
      case 2:
        n.outputs.push(r.string());
        break;
      case 3:
        n.name = r.string();
        break;
      case 4:
        n.opType = r.string();
        break;
      case 5: {
        const [name, attr] = r.message((m) => readAttr(m, src, depth));
        n.attrs[name] = attr;
        break;
      }
      case 7:
        n.domain = normaliseDomain(r.string());
        break;
      case 9: {
        // metadata_props: only the module path is kept (memory profiles map nodes back to eager modules).
        const [k, v] = r.message(readStringPair);
        if (k === "namespace") n.scope = v;
        break;
      }
      default:
        r.skip(w);
    }
  }
  if (n.opType === "") throw new ModelFormatError(`corrupt ONNX: node '${n.name}' has no op_type`);
  return n;
}

function readAttr(r: ProtoReader, src: ByteSource, depth: number): [string, Attr] {
  let name = "";
  let type = 0;
  let f = 0;
  let i = 0;
  let s: Uint8Array | undefined;
  let t: Tensor | undefined;
  let g: Graph | undefined;
  let ref: string | undefined;
  let tp: ValueType | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: Tensor[] = [];
  const graphs: Graph[] = [];
  while (!r.done()) {
    const [field, w] = r.tag();
    switch (field) {
      case 1:
        name = expectLen(r, w, "attribute name").string();
        break;
      case 2:
        f = r.float32();
        break;
      case 3:
        i = r.varint();
        break;
      case 4:
        s = expectLen(r, w, "attribute s").bytes();
        break;
      case 5:
        t = expectLen(r, w, "attribute t").message((m) => readTensor(m, src));
        break;
      case 6:
        g = expectLen(r, w, "attribute g").message((m) => readGraph(m, src, depth + 1));
        break;
      case 7:
        r.repeated(w, () => r.float32(), floats);
        break;
      case 8:
        r.repeated(w, () => r.varint(), ints);
        break;
      case 9:
        strings.push(expectLen(r, w, "attribute strings").string());
        break;
      case 10:
        tensors.push(expectLen(r, w, "attribute tensors").message((m) => readTensor(m, src)));
        break;
      case 11:
        graphs.push(expectLen(r, w, "attribute graphs").message((m) => readGraph(m, src, depth + 1)));
        break;
      case 14:
        tp = expectLen(r, w, "attribute tp").message(readType);
        break;
      case 20:
        type = r.varint();
        break;
      case 21:
        ref = expectLen(r, w, "ref_attr_name").string();
        break;
      default:
        r.skip(w);
    }
  }
  if (ref !== undefined && ref !== "") return [name, { type: "ref", ref }];
  // Old files may omit `type`: infer it from which field is set.
  if (type === 0) {
    if (t) type = 4;
    else if (g) type = 5;
    else if (s) type = 3;
    else if (floats.length) type = 6;
    else if (ints.length) type = 7;
    else if (strings.length) type = 8;
    else if (tensors.length) type = 9;
    else if (graphs.length) type = 10;
    else if (tp) type = 13;
    else if (f !== 0) type = 1;
    else type = 2;
  }
  switch (type) {
    case 1:
      return [name, { type: "float", value: f }];
    case 2:
      return [name, { type: "int", value: i }];
    case 3:
      return [name, { type: "string", value: new TextDecoder().decode(s ?? new Uint8Array(0)) }];
    case 4:
      if (!t) throw new ModelFormatError(`corrupt ONNX: tensor attribute '${name}' has no tensor`);
      return [name, { type: "tensor", value: t }];
    case 5:
      if (!g) throw new ModelFormatError(`corrupt ONNX: graph attribute '${name}' has no graph`);
      return [name, { type: "graph", value: g }];
    case 6:
      return [name, { type: "floats", value: floats }];
    case 7:
      return [name, { type: "ints", value: ints }];
    case 8:
      return [name, { type: "strings", value: strings }];
    case 9:
      return [name, { type: "tensors", value: tensors }];
    case 10:
      return [name, { type: "graphs", value: graphs }];
    case 13:
      return [name, { type: "type", value: tp ?? { kind: "unknown" } }];
    default:
      return [name, { type: "other" }];
  }
}

export function readTensor(r: ProtoReader, src: ByteSource): Tensor {
  const start = r.pos;
  const dims: number[] = [];
  let code = 0;
  let name = "";
  let raw: { offset: number; length: number } | undefined;
  let external = false;
  const ext: Record<string, string> = {};
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        r.repeated(w, () => r.varint(), dims);
        break;
      case 2:
        code = r.varint();
        break;
      case 8:
        name = expectLen(r, w, "tensor name").string();
        break;
      case 9:
        raw = expectLen(r, w, "raw_data").ref();
        break;
      case 13: {
        const [k, v] = expectLen(r, w, "external_data").message(readStringPair);
        ext[k] = v;
        break;
      }
      case 14:
        external = r.varint() === 1;
        break;
      default:
        r.skip(w);
    }
  }
  const end = r.pos;
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new ModelFormatError(`tensor '${name}' has unknown data type ${code}`);
  const elements = countElements(name, dims);
  const bytes = byteSize(dtype, elements);
  let data: TensorData;
  if (external) {
    data = externalRef(name, ext);
  } else {
    if (raw && dtype !== "string" && raw.length !== bytes) {
      throw new ModelFormatError(`tensor '${name}': raw_data holds ${raw.length} bytes, its dims need ${bytes}`);
    }
    data = { kind: "embedded", proto: { offset: start, length: end - start }, raw };
  }
  return { name, dtype, dims, elements, bytes, data, source: src };
}

function readSparse(r: ProtoReader, src: ByteSource): Tensor {
  let values: Tensor | undefined;
  const dims: number[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) values = r.message((m) => readTensor(m, src));
    else if (f === 3) r.repeated(w, () => r.varint(), dims);
    else r.skip(w);
  }
  if (!values) throw new ModelFormatError("sparse initializer without values");
  const elements = countElements(values.name, dims);
  return { ...values, dims, elements, bytes: byteSize(values.dtype, elements) };
}

function countElements(name: string, dims: number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`tensor '${name}' has dim ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ModelFormatError(`tensor '${name}' claims more than 2^53 elements`);
  }
  return n;
}

/**
 * External data: `location` must name a file inside the model's folder. Absolute paths, `..` segments and
 * drive letters are refused here (CVE-2022-25882, CVE-2024-27318); symlinks are checked when the file is opened.
 */
function externalRef(name: string, ext: Record<string, string>): TensorData {
  const location = ext["location"];
  if (location === undefined || location === "") {
    throw new ModelFormatError(`tensor '${name}': external data without a location`);
  }
  checkExternalLocation(name, location);
  const offset = ext["offset"] === undefined ? 0 : Number(ext["offset"]);
  const length = ext["length"] === undefined ? undefined : Number(ext["length"]);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ModelFormatError(`tensor '${name}': external data offset '${ext["offset"]}'`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new ModelFormatError(`tensor '${name}': external data length '${ext["length"]}'`);
  }
  return { kind: "external", location, offset, length };
}

export function checkExternalLocation(name: string, location: string): void {
  const parts = location.split(/[\\/]+/);
  if (
    location.includes("\0") ||
    location.startsWith("/") ||
    location.startsWith("\\") ||
    /^[A-Za-z]:/.test(location) ||
    parts.includes("..")
  ) {
    throw new ModelFormatError(`tensor '${name}': external data location '${location}' escapes the model's folder`);
  }
}

function readValueInfo(r: ProtoReader): ValueInfo {
  let name = "";
  let type: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) name = r.string();
    else if (f === 2 && w === WIRE_LEN) type = r.message(readType);
    else r.skip(w);
  }
  return { name, type };
}

function readType(r: ProtoReader): ValueType {
  let type: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) type = r.message((m) => readTensorType(m, "tensor"));
    else if (f === 8) type = r.message((m) => readTensorType(m, "sparse"));
    else if (f === 4) type = { kind: "sequence", elem: r.message(readElemType) };
    else if (f === 9) type = { kind: "optional", elem: r.message(readElemType) };
    else if (f === 5) {
      r.skip(w);
      type = { kind: "map" };
    } else r.skip(w);
  }
  return type;
}

function readElemType(r: ProtoReader): ValueType {
  let t: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) t = r.message(readType);
    else r.skip(w);
  }
  return t;
}

function readTensorType(r: ProtoReader, kind: "tensor" | "sparse"): ValueType {
  let dtype: DType | undefined;
  let shape: Dim[] | undefined;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) dtype = dtypeFromCode(r.varint());
    else if (f === 2 && w === WIRE_LEN) shape = r.message(readShape);
    else r.skip(w);
  }
  return { kind, dtype, shape };
}

let anonymous = 0;
function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      dims.push(
        r.message((m) => {
          let d: Dim | undefined;
          while (!m.done()) {
            const [ff, ww] = m.tag();
            if (ff === 1) d = m.varint();
            else if (ff === 2 && ww === WIRE_LEN) {
              const p = m.string();
              d = p === "" ? undefined : parseDim(p);
            } else m.skip(ww);
          }
          // A dim with neither value nor name is unknown: give it a unique symbol so it equals nothing else.
          return d ?? parseDim(`unk__${anonymous++}`);
        }),
      );
    } else r.skip(w);
  }
  return dims;
}

function readFunction(r: ProtoReader, src: ByteSource): FunctionDef {
  const fn: FunctionDef = { name: "", domain: "", inputs: [], outputs: [], attributes: [], defaults: {}, nodes: [] };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        fn.name = r.string();
        break;
      case 4:
        fn.inputs.push(r.string());
        break;
      case 5:
        fn.outputs.push(r.string());
        break;
      case 6:
        fn.attributes.push(r.string());
        break;
      case 7:
        fn.nodes.push(r.message((m) => readNode(m, src, 1)));
        break;
      case 10:
        fn.domain = normaliseDomain(r.string());
        break;
      case 11: {
        const [name, attr] = r.message((m) => readAttr(m, src, 1));
        fn.defaults[name] = attr;
        fn.attributes.push(name);
        break;
      }
      default:
        r.skip(w);
    }
  }
  return fn;
}
