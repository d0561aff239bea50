/**
 * IR -> ONNX ModelProto bytes: the inverse of decode.ts, field numbers from onnx/onnx.proto.
 *
 * Weights are never gathered into one buffer: the encoder produces a list of parts, where small structure
 * bytes are packed together and every weight payload is a lazy reference (source, offset, length) read only
 * when the part is written. Protobuf needs each message's length before its body, so messages are encoded
 * bottom-up and their sizes summed from the parts; a payload's size is known without reading it.
 *
 * Browser-safe: no Node imports. Writing to a file lives with the callers (src/quantize/save.ts).
 */
import { ModelFormatError } from "../../errors.js";
import { byteSize, dtypeCode, type DType } from "../../graph/dtype.js";
import type { Attr, Graph, Model, Node, Tensor, ValueInfo, ValueType } from "../../graph/ir.js";
import { dimToString, type Dim } from "../../sym/expr.js";
import { MemorySource, type ByteSource } from "../source.js";
import { ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from "./proto.js";
import { elementCount } from "../../graph/element-count.js";

/** Bytes not yet read: a range of a source, fetched when the part is written. */
export interface LazyPart {
  source: ByteSource;
  offset: number;
  length: number;
}

export type Part = Uint8Array | LazyPart;

/** Payloads are copied in slices of this size, so a 2 GB tensor never sits in memory whole. */
export const COPY_SLICE_BYTES = 16 << 20;

const utf8 = new TextEncoder();

/** A protobuf message being built: packed small bytes, lazy payloads, and its total size. */
export class ProtoWriter {
  readonly parts: Part[] = [];
  size = 0;
  private buf = new Uint8Array(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
    this.size++;
  }

  /** Unsigned varint of a non-negative safe integer. */
  uvarint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint ${n} is not a non-negative safe integer`);
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  /** int64 varint: negative values take ten bytes of two's complement, as protobuf requires. */
  varint(n: number): void {
    if (n >= 0) return this.uvarint(n);
    if (!Number.isSafeInteger(n)) throw new RangeError(`varint ${n} is not a safe integer`);
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    this.size += bytes.length;
  }

  private flush(): void {
    if (this.len === 0) return;
    this.parts.push(this.buf.slice(0, this.len));
    this.len = 0;
  }

  /** Append parts whose bytes are already counted elsewhere (a finished sub-message). */
  private append(parts: readonly Part[], size: number): void {
    if (size < 4096) {
      // Small messages are copied inline: fewer, larger parts.
      for (const p of parts) {
        if (p instanceof Uint8Array) this.raw(p);
        else {
          this.flush();
          this.parts.push(p);
          this.size += p.length;
        }
      }
      return;
    }
    this.flush();
    this.parts.push(...parts);
    this.size += size;
  }

  int(field: number, n: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  float(field: number, v: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.raw(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.uvarint(b.length);
    this.raw(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  /** A length-delimited field whose payload is read from `source` only when written. */
  lazyBytes(field: number, source: ByteSource, offset: number, length: number): void {
    this.tag(field, WIRE_LEN);
    this.uvarint(length);
    this.lazy(source, offset, length);
  }

  /** Bytes copied verbatim from a source (already-encoded fields), read when written. */
  lazy(source: ByteSource, offset: number, length: number): void {
    if (length === 0) return;
    this.flush();
    this.parts.push({ source, offset, length });
    this.size += length;
  }

  message(field: number, sub: ProtoWriter): void {
    this.tag(field, WIRE_LEN);
    this.uvarint(sub.size);
    const parts = sub.finish();
    this.append(parts, sub.size);
  }

  packedInts(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    const sub = new ProtoWriter();
    for (const v of values) sub.varint(v);
    this.message(field, sub);
  }

  packedFloats(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    this.bytes(field, b);
  }

  finish(): Part[] {
    this.flush();
    return this.parts;
  }
}

export interface WriteOptions {
  /**
   * Tensors whose bytes live in external files: "keep" writes the same location/offset/length (right when
   * the output sits in the same folder as those files); "embed" copies the bytes into the model, which
   * needs `openExternal`. Default "keep".
   */
  externalData?: "keep" | "embed";
  openExternal?: (location: string) => ByteSource;
  /**
   * Write each node's module path back as its `namespace` metadata entry (NodeProto.metadata_props, field 9),
   * as PyTorch's dynamo exporter does. Off by default: saved models keep the bytes they had.
   */
  scopes?: boolean;
}

/** The encoded model as parts (nothing of the weights read yet) and its size in bytes. */
export function encodeModelParts(model: Model, opts: WriteOptions = {}): { parts: Part[]; size: number } {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  const [producerName, producerVersion] = splitProducer(model.producer);
  if (producerName !== "") w.string(2, producerName);
  if (producerVersion !== "") w.string(3, producerVersion);
  w.message(7, encodeGraph(model.graph, opts));
  for (const [domain, version] of Object.entries(model.opsets)) {
    const o = new ProtoWriter();
    if (domain !== "") o.string(1, domain);
    o.int(2, version);
    w.message(8, o);
  }
  for (const [k, v] of Object.entries(model.metadata)) w.message(14, stringPair(k, v));
  const size = w.size;
  return { parts: w.finish(), size };
}

/** The whole model as one buffer (tests, the browser, small models). */
export function encodeModel(model: Model, opts: WriteOptions = {}): Uint8Array {
  const { parts, size } = encodeModelParts(model, opts);
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of readParts(parts)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== size) throw new Error(`encoder wrote ${at} bytes, expected ${size}`);
  return out;
}

/** The bytes of the parts in order, lazy ones read in slices of at most COPY_SLICE_BYTES. */
export function* readParts(parts: readonly Part[]): Generator<Uint8Array> {
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      yield p;
      continue;
    }
    for (let done = 0; done < p.length; done += COPY_SLICE_BYTES) {
      yield p.source.read(p.offset + done, Math.min(COPY_SLICE_BYTES, p.length - done));
    }
  }
}

/** The reader joins producer_name and producer_version with a space; split them back at the first one. */
function splitProducer(producer: string): [string, string] {
  const i = producer.indexOf(" ");
  return i < 0 ? [producer, ""] : [producer.slice(0, i), producer.slice(i + 1)];
}

function stringPair(k: string, v: string): ProtoWriter {
  const p = new ProtoWriter();
  p.string(1, k);
  p.string(2, v);
  return p;
}

export function encodeGraph(g: Graph, opts: WriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n, opts));
  if (g.name !== "") w.string(2, g.name);
  for (const t of g.initializers.values()) w.message(5, encodeTensor(t, opts));
  for (const vi of g.inputs) w.message(11, encodeValueInfo(vi));
  for (const vi of g.outputs) w.message(12, encodeValueInfo(vi));
  for (const vi of g.valueInfo.values()) w.message(13, encodeValueInfo(vi));
  return w;
}

function encodeNode(n: Node, opts: WriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== "") w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attrs)) w.message(5, encodeAttr(n, name, a, opts));
  if (n.domain !== "") w.string(7, n.domain);
  if (opts.scopes && n.scope !== undefined) w.message(9, stringPair("namespace", n.scope));
  return w;
}

/** AttributeProto.AttributeType values. */
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8, tensors: 9, graphs: 10, type: 13 } as const;

function encodeAttr(n: Node, name: string, a: Attr, opts: WriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.type) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, encodeTensor(a.value, opts));
      break;
    case "graph":
      w.message(6, encodeGraph(a.value, opts));
      break;
    case "floats":
      w.packedFloats(7, a.value);
      break;
    case "ints":
      w.packedInts(8, a.value);
      break;
    case "strings":
      for (const s of a.value) w.string(9, s);
      break;
    case "tensors":
      for (const t of a.value) w.message(10, encodeTensor(t, opts));
      break;
    case "graphs":
      for (const g of a.value) w.message(11, encodeGraph(g, opts));
      break;
    case "type":
      w.message(14, encodeType(a.value));
      break;
    case "ref":
      // Only function bodies carry references, and the reader inlines functions: one here is a bug upstream.
      throw new ModelFormatError(`node '${n.name}' (${n.opType}): attribute '${name}' still refers to '${a.ref}'`);
    case "sparse":
    case "other":
      throw new ModelFormatError(`node '${n.name}' (${n.opType}): attribute '${name}' has a type the writer cannot encode (sparse tensor or type list)`);
  }
  w.int(20, ATTR_TYPE[a.type]);
  return w;
}

/** TensorProto typed payload fields: float_data 4, int32_data 5, string_data 6, int64_data 7, double_data 10, uint64_data 11. */
const TYPED_DATA_FIELDS = new Set([4, 5, 6, 7, 10, 11]);

export function encodeTensor(t: Tensor, opts: WriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, dtypeCode(t.dtype));
  if (t.name !== "") w.string(8, t.name);
  const d = t.data;
  if (d.kind === "external") {
    if (opts.externalData === "embed") {
      if (!opts.openExternal) throw new ModelFormatError(`tensor '${t.name}': embedding external data needs its files`);
      const src = opts.openExternal(d.location);
      if (d.offset + t.bytes > src.size) throw new ModelFormatError(`tensor '${t.name}': external data is truncated`);
      w.lazyBytes(9, src, d.offset, t.bytes);
    } else {
      w.message(13, stringPair("location", d.location));
      if (d.offset !== 0) w.message(13, stringPair("offset", String(d.offset)));
      if (d.length !== undefined) w.message(13, stringPair("length", String(d.length)));
      w.int(14, 1);
    }
    return w;
  }
  if (d.raw) {
    if (t.dtype !== "string" && d.raw.length !== t.bytes) {
      // A sparse initializer read as its dense shape: its payload holds only the non-zero values.
      throw new ModelFormatError(`tensor '${t.name}': payload of ${d.raw.length} bytes for ${t.bytes} dense bytes (sparse tensors are not written)`);
    }
    w.lazyBytes(9, t.source, d.raw.offset, d.raw.length);
    return w;
  }
  // Typed fields (float_data, int64_data...): copy them as encoded, tag and all.
  const r = new ProtoReader(t.source, d.proto.offset, d.proto.offset + d.proto.length);
  while (!r.done()) {
    const start = r.pos;
    const [f, wire] = r.tag();
    r.skip(wire);
    if (TYPED_DATA_FIELDS.has(f)) w.lazy(t.source, start, r.pos - start);
  }
  return w;
}

/** ValueInfoProto: name 1, type 2. */
export function encodeValueInfo(vi: ValueInfo): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, vi.name);
  if (vi.type.kind !== "unknown") w.message(2, encodeType(vi.type));
  return w;
}

/** TypeProto: tensor_type 1, sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9. */
function encodeType(t: ValueType): ProtoWriter {
  const w = new ProtoWriter();
  switch (t.kind) {
    case "tensor":
    case "sparse": {
      const tt = new ProtoWriter();
      if (t.dtype !== undefined) tt.int(1, dtypeCode(t.dtype));
      if (t.shape !== undefined) tt.message(2, encodeShape(t.shape));
      w.message(t.kind === "tensor" ? 1 : 8, tt);
      break;
    }
    case "sequence":
    case "optional": {
      const inner = new ProtoWriter();
      inner.message(1, encodeType(t.elem));
      w.message(t.kind === "sequence" ? 4 : 9, inner);
      break;
    }
    case "map":
      // The IR does not keep a map's key and value types; an empty map_type still says "a map".
      w.message(5, new ProtoWriter());
      break;
    case "unknown":
      break;
  }
  return w;
}

function encodeShape(dims: readonly Dim[]): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) {
    const dw = new ProtoWriter();
    if (typeof d === "number") dw.int(1, d);
    else dw.string(2, dimToString(d));
    w.message(1, dw);
  }
  return w;
}

/**
 * A new tensor holding `raw` (little-endian, ONNX layout): it is encoded as a TensorProto in memory, so
 * it is a Tensor like any read from a file and every reader of tensors (values.ts, this writer) handles it.
 */
export function tensorFromBytes(name: string, dtype: DType, dims: readonly number[], raw: Uint8Array): Tensor {
  const w = new ProtoWriter();
  w.packedInts(1, dims);
  w.int(2, dtypeCode(dtype));
  w.string(8, name);
  w.tag(9, WIRE_LEN);
  w.uvarint(raw.length);
  const rawOffset = w.size;
  w.raw(raw);
  const size = w.size;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of w.finish()) {
    if (!(p instanceof Uint8Array)) throw new Error("unreachable: in-memory tensor with a lazy part");
    bytes.set(p, at);
    at += p.length;
  }
  const elements = elementCount(dims);
  if (dtype !== "string" && byteSize(dtype, elements) !== raw.length) {
    throw new RangeError(`tensor '${name}': ${raw.length} bytes for ${elements} ${dtype} elements`);
  }
  return {
    name,
    dtype,
    dims: [...dims],
    elements,
    bytes: raw.length,
    data: { kind: "embedded", proto: { offset: 0, length: size }, raw: { offset: rawOffset, length: raw.length } },
    source: new MemorySource(bytes, name),
  };
}
