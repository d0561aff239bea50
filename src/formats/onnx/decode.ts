/**
 * ONNX ModelProto -> IR, reading only the graph's structure. Field numbers are from onnx/onnx.proto.
 * Weight payloads (raw_data) are recorded as spans and skipped; typed data fields (float_data, int64_data)
 * are recorded as the span of their TensorProto and decoded only when a value is asked for.
 */
import { ModelFormatError } from "../../errors.js";
import type { Attr, Graph, Model, Node, Tensor, ValueType } from "../../graph/ir.js";
import { normaliseDomain } from "../../graph/ir.js";
import type { ByteSource } from "../source.js";
import { quote } from "../quote.js";
import { validateDeclared } from "./validate.js";
import { expectLen, expectWire, ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from "./proto.js";
import { inlineFunctions, type FunctionDef } from "./functions.js";
import {
  count,
  MAX_ATTR_STRING_BYTES,
  MAX_ATTR_VALUES,
  MAX_GRAPH_DEPTH,
  MAX_INITIALIZERS,
  MAX_NAME_BYTES,
  MAX_NODES,
  MAX_SUBGRAPHS,
  MAX_VALUE_INFOS,
  newDecodeState,
  type DecodeState,
} from "./limits.js";
import { readSparse, readStringPair, readTensor } from "./read-tensor.js";
import { readType, readValueInfo } from "./read-type.js";

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