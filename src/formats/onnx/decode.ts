/**
 * ONNX ModelProto -> IR, reading only the graph's structure. Field numbers are from onnx/onnx.proto.
 * Weight payloads (raw_data) are recorded as spans and skipped; typed data fields (float_data, int64_data)
 * are recorded as the span of their TensorProto and decoded only when a value is asked for.
 */
import { ModelFormatError } from "../../errors.js";
import { byteSize, dtypeFromCode, type DType } from "../../graph/dtype.js";
import type { Attr, Graph, Model, Node, Tensor, TensorData, ValueInfo, ValueType } from "../../graph/ir.js";
import { normaliseDomain } from "../../graph/ir.js";
import { MAX_EXPRESSION_CHARS, overflowCount, parseDim, sym, type Dim } from "../../sym/expr.js";
import type { ByteSource } from "../source.js";
import { quote } from "../quote.js";
import { validateDeclared } from "./validate.js";
import { ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from "./proto.js";
import { inlineFunctions, type FunctionDef } from "./functions.js";

/*
 * Limits. Every count and length read from a file is checked against one of these before anything is
 * allocated for it, so a hostile file is refused with a reason instead of exhausting memory. Lengths are
 * also checked against the bytes left in their message (proto.ts), so nothing claims more than the file has.
 */
/** Subgraphs (If/Loop/Scan bodies) nest; deeper than this is not a real model. */
export const MAX_GRAPH_DEPTH = 32;
/**
 * Subgraphs (If branches, Loop and Scan bodies) in all graphs together, counted before each is read: real
 * models have at most a few hundred, and an empty GraphProto costs 2 bytes in the file against a Graph
 * object in memory (16 million of them: 4.4 GB, issue 12).
 */
export const MAX_SUBGRAPHS = 100_000;
/** A tensor with more elements than a double can count exactly is not a real tensor. */
export const MAX_ELEMENTS = 2 ** 53;
/**
 * Nodes in all graphs and functions together. The largest exported graphs we know (LLMs, unrolled
 * decoders) have a few hundred thousand; a node costs about 1 KB through analysis against as little as
 * 5 bytes in the file (2 million minimal nodes: a 29 MB file, 17 s and 2.4 GB to analyse).
 */
export const MAX_NODES = 1_000_000;
/** Inputs, outputs and value_info entries in all graphs together (an exporter writes about one per node output). */
export const MAX_VALUE_INFOS = 2_000_000;
/** Initializers in all graphs together (one per weight; a few per node at most). */
export const MAX_INITIALIZERS = 1_000_000;
/** Dimensions of one tensor or shape: numpy allows 64, no runtime more. */
export const MAX_RANK = 64;
/**
 * Dimensions in all declared shapes together (inputs, outputs, value_info): each becomes a number or a
 * symbol. Real models declare a few per value; 4 bytes of file make one.
 */
export const MAX_DECLARED_DIMS = 4_000_000;
/** dim_param text parsed as an expression up to this length (exporters write at most a few dozen characters). */
export const MAX_DIM_EXPRESSION_CHARS = 256;
/** sequence(optional(sequence(...))) types: real ones nest two or three deep; recursion must stop somewhere. */
export const MAX_TYPE_DEPTH = 16;
/** Values in one list attribute (ints, floats, strings, tensors, graphs). */
export const MAX_ATTR_VALUES = 1 << 24;
/** Bytes of one name (node, tensor, op type, domain, dim_param, metadata): real names are under a kilobyte. */
export const MAX_NAME_BYTES = 1 << 16;
/**
 * A string attribute longer than this (an EPContext node's embedded engine, a custom op's blob) is kept as
 * "other" with a warning, not decoded: no shape rule reads a string that long.
 */
export const MAX_ATTR_STRING_BYTES = 1 << 20;

/** Counts over the whole model, checked against the limits as the reader goes. */
export interface DecodeState {
  nodes: number;
  valueInfos: number;
  initializers: number;
  declaredDims: number;
  /** dim_param text -> its parsed dimension: exporters repeat a few names ("batch", "seq") on every value. */
  dimParams: Map<string, Dim>;
  subgraphs: number;
  warnings: string[];
}

export function newDecodeState(): DecodeState {
  return { nodes: 0, valueInfos: 0, initializers: 0, declaredDims: 0, subgraphs: 0, warnings: [], dimParams: new Map() };
}

function count(st: DecodeState, key: "nodes" | "valueInfos" | "initializers" | "declaredDims" | "subgraphs", limit: number, what: string): void {
  if (++st[key] > limit) throw new ModelFormatError(`more than ${limit} ${what}: not a model this reader accepts`);
}

export function decodeModel(src: ByteSource, file: string): Model {
  const r = new ProtoReader(src);
  const st = newDecodeState();
  let irVersion = 0;
  let producerName = "";
  let producerVersion = "";
  let graph: Graph | undefined;
  const opsets: Record<string, number> = {};
  const metadata: Record<string, string> = {};
  const functions: FunctionDef[] = [];
  const warnings = st.warnings;
  let sawAny = false;
  while (!r.done()) {
    const [field, wire] = r.tag();
    sawAny = true;
    switch (field) {
      case 1:
        irVersion = expectWire(r, wire, WIRE_VARINT, "ir_version").varint();
        break;
      case 2:
        producerName = expectLen(r, wire, "producer_name").string(MAX_NAME_BYTES, "producer_name");
        break;
      case 3:
        producerVersion = expectLen(r, wire, "producer_version").string(MAX_NAME_BYTES, "producer_version");
        break;
      case 7:
        // A repeated embedded message merges (protobuf's rule, which onnxruntime follows): a second `graph`
        // field adds to the first, it does not replace it.
        graph = expectLen(r, wire, "graph").message((m) => readGraph(m, src, 0, st, graph));
        break;
      case 8: {
        const [domain, version] = expectLen(r, wire, "opset_import").message(readOpset);
        opsets[normaliseDomain(domain)] = version;
        break;
      }
      case 14: {
        const [k, v] = expectLen(r, wire, "metadata_props").message(readStringPair);
        // onnx's checker refuses duplicate metadata_props keys ("duplicate keys in metadata_props"): so does this.
        if (Object.hasOwn(metadata, k)) throw new ModelFormatError(`metadata_props key ${quote(k)} appears twice`);
        metadata[k] = v;
        break;
      }
      case 25:
        functions.push(expectLen(r, wire, "functions").message((m) => readFunction(m, src, st)));
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
    graph = inlineFunctions(graph, functions, warnings);
  }
  validateDeclared(graph, warnings);
  const producer = [producerName, producerVersion].filter((s) => s !== "").join(" ");
  return { format: "onnx", file, irVersion, producer, opsets, graph, metadata, warnings };
}

function expectLen(r: ProtoReader, wire: number, what: string): ProtoReader {
  return expectWire(r, wire, WIRE_LEN, what);
}

/** Protobuf parsers refuse a known field with the wrong wire type: reading it anyway would misread the rest. */
function expectWire(r: ProtoReader, wire: number, expected: number, what: string): ProtoReader {
  if (wire !== expected) throw new ModelFormatError(`corrupt ONNX: ${what} has wire type ${wire}`);
  return r;
}

function readOpset(r: ProtoReader): [string, number] {
  let domain = "";
  let version = 0;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) domain = r.string(MAX_NAME_BYTES, "opset domain");
    else if (f === 2) version = expectWire(r, w, WIRE_VARINT, "opset version").varint();
    else r.skip(w);
  }
  return [domain, version];
}

/**
 * The value of a `namespace` metadata entry, without decoding other entries' values (stack traces).
 * Metadata is optional: an entry over MAX_NAME_BYTES is ignored (skipped unread), not an error.
 */
function readNamespace(r: ProtoReader): string | undefined {
  let key = "";
  let value: string | undefined;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      const k = r.bytesIfAtMost(MAX_NAME_BYTES);
      key = typeof k === "number" ? "" : utf8.decode(k);
    } else if (f === 2 && w === WIRE_LEN && key === "namespace") {
      const v = r.bytesIfAtMost(MAX_NAME_BYTES);
      value = typeof v === "number" ? undefined : utf8.decode(v);
    } else r.skip(w);
  }
  return key === "namespace" ? value : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function readStringPair(r: ProtoReader): [string, string] {
  let k = "";
  let v = "";
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) k = r.string(MAX_NAME_BYTES, "key");
    else if (f === 2 && w === WIRE_LEN) v = r.string(MAX_ATTR_STRING_BYTES, "value");
    else r.skip(w);
  }
  return [k, v];
}

/** A GraphProto; `into` is the graph an earlier occurrence of the same field read (protobuf merges them). */
export function readGraph(r: ProtoReader, src: ByteSource, depth: number, st: DecodeState = newDecodeState(), into?: Graph): Graph {
  if (depth > MAX_GRAPH_DEPTH) throw new ModelFormatError(`subgraphs nested deeper than ${MAX_GRAPH_DEPTH}`);
  const g: Graph = into ?? { name: "", nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        count(st, "nodes", MAX_NODES, "nodes");
        g.nodes.push(r.message((m) => readNode(m, src, depth, st)));
        break;
      case 2:
        g.name = r.string(MAX_NAME_BYTES, "graph name");
        break;
      case 5: {
        count(st, "initializers", MAX_INITIALIZERS, "initializers");
        const t = r.message((m) => readTensor(m, src));
        g.initializers.set(t.name, t);
        break;
      }
      case 11:
        count(st, "valueInfos", MAX_VALUE_INFOS, "inputs, outputs and value_info entries");
        g.inputs.push(r.message((m) => readValueInfo(m, st)));
        break;
      case 12:
        count(st, "valueInfos", MAX_VALUE_INFOS, "inputs, outputs and value_info entries");
        g.outputs.push(r.message((m) => readValueInfo(m, st)));
        break;
      case 13: {
        count(st, "valueInfos", MAX_VALUE_INFOS, "inputs, outputs and value_info entries");
        const vi = r.message((m) => readValueInfo(m, st));
        g.valueInfo.set(vi.name, vi);
        break;
      }
      case 15: {
        // SparseTensorProto: values 1, indices 2, dims 3. Its dense size is what the runtime materialises.
        count(st, "initializers", MAX_INITIALIZERS, "initializers");
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

function readNode(r: ProtoReader, src: ByteSource, depth: number, st: DecodeState): Node {
  const n: Node = { name: "", opType: "", domain: "", inputs: [], outputs: [], attrs: {} };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        n.inputs.push(r.string(MAX_NAME_BYTES, "node input"));
        break;
      case 2:
        n.outputs.push(r.string(MAX_NAME_BYTES, "node output"));
        break;
      case 3:
        n.name = r.string(MAX_NAME_BYTES, "node name");
        break;
      case 4:
        n.opType = r.string(MAX_NAME_BYTES, "op_type");
        break;
      case 5: {
        const [name, attr] = r.message((m) => readAttr(m, src, depth, st));
        n.attrs[name] = attr;
        break;
      }
      case 7:
        n.domain = normaliseDomain(r.string(MAX_NAME_BYTES, "node domain"));
        break;
      case 9: {
        // metadata_props: only the module path is kept (memory profiles map nodes back to eager modules).
        const scope = r.message(readNamespace);
        if (scope !== undefined) n.scope = scope;
        break;
      }
      default:
        r.skip(w);
    }
  }
  if (n.opType === "") throw new ModelFormatError(`corrupt ONNX: node ${quote(n.name)} has no op_type`);
  return n;
}

function readAttr(r: ProtoReader, src: ByteSource, depth: number, st: DecodeState): [string, Attr] {
  let name = "";
  let type = 0;
  let f = 0;
  let i = 0;
  let s: Uint8Array | undefined;
  let longString = 0;
  let t: Tensor | undefined;
  let g: Graph | undefined;
  let ref: string | undefined;
  let tp: ValueType | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: Tensor[] = [];
  const graphs: Graph[] = [];
  let sparse: Tensor | undefined;
  while (!r.done()) {
    const [field, w] = r.tag();
    switch (field) {
      case 1:
        name = expectLen(r, w, "attribute name").string(MAX_NAME_BYTES, "attribute name");
        break;
      case 2:
        f = expectWire(r, w, WIRE_FIXED32, "attribute f").float32();
        break;
      case 3:
        i = expectWire(r, w, WIRE_VARINT, "attribute i").varint();
        break;
      case 4: {
        const got = expectLen(r, w, "attribute s").bytesIfAtMost(MAX_ATTR_STRING_BYTES);
        if (typeof got === "number") longString = got;
        else s = got;
        break;
      }
      case 5:
        // Protobuf would merge a second tensor into the first field by field (dims and data concatenated):
        // a tensor that exists only as that merge is refused, never read as one of its halves.
        if (t) throw new ModelFormatError(`attribute ${quote(name)} holds its tensor twice (protobuf merges them; memlens does not read merged tensors)`);
        t = expectLen(r, w, "attribute t").message((m) => readTensor(m, src));
        break;
      case 6:
        count(st, "subgraphs", MAX_SUBGRAPHS, "subgraphs");
        g = expectLen(r, w, "attribute g").message((m) => readGraph(m, src, depth + 1, st, g));
        break;
      case 7:
        r.repeated(w, WIRE_FIXED32, () => r.float32(), floats, MAX_ATTR_VALUES, "attribute floats");
        break;
      case 8:
        r.repeated(w, WIRE_VARINT, () => r.varint(), ints, MAX_ATTR_VALUES, "attribute ints");
        break;
      case 9:
        if (strings.length >= MAX_ATTR_VALUES) throw new ModelFormatError(`attribute strings has more than ${MAX_ATTR_VALUES} values`);
        strings.push(expectLen(r, w, "attribute strings").string(MAX_ATTR_STRING_BYTES, "attribute string"));
        break;
      case 10:
        if (tensors.length >= MAX_ATTR_VALUES) throw new ModelFormatError(`attribute tensors has more than ${MAX_ATTR_VALUES} values`);
        tensors.push(expectLen(r, w, "attribute tensors").message((m) => readTensor(m, src)));
        break;
      case 11:
        if (graphs.length >= MAX_ATTR_VALUES) throw new ModelFormatError(`attribute graphs has more than ${MAX_ATTR_VALUES} values`);
        count(st, "subgraphs", MAX_SUBGRAPHS, "subgraphs");
        graphs.push(expectLen(r, w, "attribute graphs").message((m) => readGraph(m, src, depth + 1, st)));
        break;
      case 14:
        tp = expectLen(r, w, "attribute tp").message((m) => readType(m, st, 0));
        break;
      case 22:
        if (sparse) throw new ModelFormatError(`attribute ${quote(name)} holds its sparse tensor twice (protobuf merges them; memlens does not read merged tensors)`);
        sparse = expectLen(r, w, "attribute sparse_tensor").message((m) => readSparse(m, src));
        break;
      case 20:
        type = expectWire(r, w, WIRE_VARINT, "attribute type").varint();
        break;
      case 21:
        ref = expectLen(r, w, "ref_attr_name").string(MAX_NAME_BYTES, "ref_attr_name");
        break;
      default:
        r.skip(w);
    }
  }
  if (ref !== undefined && ref !== "") return [name, { type: "ref", ref }];
  if (longString > 0) {
    st.warnings.push(`attribute ${quote(name)} holds a ${longString}-byte string: not read`);
    return [name, { type: "other" }];
  }
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
    else if (sparse) type = 11;
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
      if (!t) throw new ModelFormatError(`corrupt ONNX: tensor attribute ${quote(name)} has no tensor`);
      return [name, { type: "tensor", value: t }];
    case 5:
      if (!g) throw new ModelFormatError(`corrupt ONNX: graph attribute ${quote(name)} has no graph`);
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
    case 11:
      if (!sparse) throw new ModelFormatError(`corrupt ONNX: sparse tensor attribute ${quote(name)} has no tensor`);
      return [name, { type: "sparse", value: sparse }];
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
        r.repeated(w, WIRE_VARINT, () => r.varint(), dims, MAX_RANK, "tensor dims");
        break;
      case 2:
        code = expectWire(r, w, WIRE_VARINT, "tensor data_type").varint();
        break;
      case 8:
        name = expectLen(r, w, "tensor name").string(MAX_NAME_BYTES, "tensor name");
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
        external = expectWire(r, w, WIRE_VARINT, "tensor data_location").varint() === 1;
        break;
      default:
        r.skip(w);
    }
  }
  const end = r.pos;
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new ModelFormatError(`tensor ${quote(name)} has unknown data type ${code}`);
  const elements = countElements(name, dims);
  const bytes = byteSize(dtype, elements);
  let data: TensorData;
  if (external) {
    data = externalRef(name, ext);
  } else {
    if (raw && dtype !== "string" && raw.length !== bytes) {
      throw new ModelFormatError(`tensor ${quote(name)}: raw_data holds ${raw.length} bytes, its dims need ${bytes}`);
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
    if (f === 1 && w === WIRE_LEN) {
      if (values) throw new ModelFormatError("a sparse tensor holds its values twice (protobuf merges them; memlens does not read merged tensors)");
      values = r.message((m) => readTensor(m, src));
    }
    else if (f === 3) r.repeated(w, WIRE_VARINT, () => r.varint(), dims, MAX_RANK, "sparse tensor dims");
    else r.skip(w);
  }
  if (!values) throw new ModelFormatError("sparse initializer without values");
  const elements = countElements(values.name, dims);
  return { ...values, dims, elements, bytes: byteSize(values.dtype, elements) };
}

function countElements(name: string, dims: number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`tensor ${quote(name)} has dim ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ModelFormatError(`tensor ${quote(name)} claims more than 2^53 elements`);
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
    throw new ModelFormatError(`tensor ${quote(name)}: external data without a location`);
  }
  checkExternalLocation(name, location);
  const offset = ext["offset"] === undefined ? 0 : Number(ext["offset"]);
  const length = ext["length"] === undefined ? undefined : Number(ext["length"]);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ModelFormatError(`tensor ${quote(name)}: external data offset ${quote(ext["offset"] ?? "")} is not a byte offset`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new ModelFormatError(`tensor ${quote(name)}: external data length ${quote(ext["length"] ?? "")} is not a byte count`);
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
    throw new ModelFormatError(`tensor ${quote(name)}: external data location ${quote(location)} escapes the model's folder`);
  }
}

function readValueInfo(r: ProtoReader, st: DecodeState): ValueInfo {
  let name = "";
  let type: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) name = r.string(MAX_NAME_BYTES, "value name");
    else if (f === 2 && w === WIRE_LEN) type = r.message((m) => readType(m, st, 0, type));
    else r.skip(w);
  }
  return { name, type };
}

/** A TypeProto; `prior` is an earlier occurrence of the same field, merged with this one as protobuf does. */
function readType(r: ProtoReader, st: DecodeState, depth: number, prior?: ValueType): ValueType {
  if (depth > MAX_TYPE_DEPTH) throw new ModelFormatError(`types nested deeper than ${MAX_TYPE_DEPTH}`);
  let type: ValueType = prior ?? { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) type = r.message((m) => readTensorType(m, "tensor", st, type.kind === "tensor" ? type : undefined));
    else if (f === 8) type = r.message((m) => readTensorType(m, "sparse", st, type.kind === "sparse" ? type : undefined));
    else if (f === 4) type = { kind: "sequence", elem: r.message((m) => readElemType(m, st, depth)) };
    else if (f === 9) type = { kind: "optional", elem: r.message((m) => readElemType(m, st, depth)) };
    else if (f === 5) {
      r.skip(w);
      type = { kind: "map" };
    } else r.skip(w);
  }
  return type;
}

function readElemType(r: ProtoReader, st: DecodeState, depth: number): ValueType {
  let t: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) t = r.message((m) => readType(m, st, depth + 1));
    else r.skip(w);
  }
  return t;
}

/** A tensor type; merged into `prior` (its last elem_type wins, shapes' dims concatenate, as protobuf merges). */
function readTensorType(r: ProtoReader, kind: "tensor" | "sparse", st: DecodeState, prior?: Extract<ValueType, { kind: "tensor" | "sparse" }>): ValueType {
  let dtype: DType | undefined = prior?.dtype;
  let shape: Dim[] | undefined = prior?.shape;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) dtype = dtypeFromCode(expectWire(r, w, WIRE_VARINT, "elem_type").varint());
    else if (f === 2 && w === WIRE_LEN) shape = r.message((m) => readShape(m, st, shape));
    else r.skip(w);
  }
  return { kind, dtype, shape };
}

let anonymous = 0;
function readShape(r: ProtoReader, st: DecodeState, prior?: Dim[]): Dim[] {
  const dims: Dim[] = prior ?? [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      if (dims.length >= MAX_RANK) throw new ModelFormatError(`a shape has more than ${MAX_RANK} dimensions`);
      count(st, "declaredDims", MAX_DECLARED_DIMS, "declared dimensions");
      dims.push(
        r.message((m) => {
          let d: Dim | undefined;
          while (!m.done()) {
            const [ff, ww] = m.tag();
            if (ff === 1) d = expectWire(m, ww, WIRE_VARINT, "dim_value").varint();
            else if (ff === 2 && ww === WIRE_LEN) {
              const p = m.string(MAX_NAME_BYTES, "dim_param");
              if (p === "") d = undefined;
              else if (p.length <= MAX_DIM_EXPRESSION_CHARS) {
                d = st.dimParams.get(p);
                if (d === undefined) {
                  const before = overflowCount();
                  st.dimParams.set(p, (d = parseDim(p)));
                  if (overflowCount() !== before && !st.warnings.some((x) => x.startsWith("dim_param expands past"))) {
                    st.warnings.push(`dim_param expands past ${MAX_EXPRESSION_CHARS} characters (${quote(p.slice(0, 40))}...): kept as one symbol`);
                  }
                }
              } else {
                // Expanding a long expression costs quadratic time (a 59 KB sum took 5.6 s): keep it opaque.
                d = sym(p);
                if (!st.warnings.some((x) => x.startsWith("dim_param longer than"))) {
                  st.warnings.push(`dim_param longer than ${MAX_DIM_EXPRESSION_CHARS} characters kept as one symbol, not parsed`);
                }
              }
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

function readFunction(r: ProtoReader, src: ByteSource, st: DecodeState): FunctionDef {
  const fn: FunctionDef = { name: "", domain: "", inputs: [], outputs: [], attributes: [], defaults: {}, nodes: [] };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        fn.name = r.string(MAX_NAME_BYTES, "function name");
        break;
      case 4:
        fn.inputs.push(r.string(MAX_NAME_BYTES, "function input"));
        break;
      case 5:
        fn.outputs.push(r.string(MAX_NAME_BYTES, "function output"));
        break;
      case 6:
        fn.attributes.push(r.string(MAX_NAME_BYTES, "function attribute"));
        break;
      case 7:
        count(st, "nodes", MAX_NODES, "nodes");
        fn.nodes.push(r.message((m) => readNode(m, src, 1, st)));
        break;
      case 10:
        fn.domain = normaliseDomain(r.string(MAX_NAME_BYTES, "function domain"));
        break;
      case 11: {
        const [name, attr] = r.message((m) => readAttr(m, src, 1, st));
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
