/**
 * Decoding a tensor's values, only when asked: shape inference needs the few small integer tensors that
 * feed Reshape/Slice/Expand, never the weights.
 */
import { ModelFormatError } from "../../errors.js";
import type { DType } from "../../graph/dtype.js";
import type { Tensor, TensorValues } from "../../graph/ir.js";
import type { ByteSource } from "../source.js";
import { quote } from "../quote.js";
import { ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from "./proto.js";

/** Opens an external data file named by a model's `location` (already checked not to escape). */
export type ExternalOpener = (location: string) => ByteSource;

/** The values of a numeric or bool tensor (int64 beyond 2^53 loses precision) or a string tensor. */
export function readTensorValues(t: Tensor, openExternal?: ExternalOpener): number[] | string[] {
  if (t.data.kind === "external") {
    if (!openExternal) throw new ModelFormatError(`tensor ${quote(t.name)}: external data is not available`);
    const src = openExternal(t.data.location);
    const length = t.data.length ?? t.bytes;
    if (length < t.bytes || t.data.offset + length > src.size) {
      throw new ModelFormatError(`tensor ${quote(t.name)}: external data [${t.data.offset}, +${length}) outside ${quote(t.data.location)}`);
    }
    return decodeRaw(t.dtype, src.read(t.data.offset, t.bytes), t.elements);
  }
  if (t.data.raw) return decodeRaw(t.dtype, t.source.read(t.data.raw.offset, t.data.raw.length), t.elements);
  return decodeTyped(t);
}

/** The ONNX reader's side of graph/ir.ts TensorValues: embedded data from the model, external data through `openExternal`. */
export function onnxTensorValues(openExternal?: ExternalOpener): TensorValues {
  return (t) => readTensorValues(t, openExternal);
}

/** The raw little-endian bytes of a tensor (for runtimes and writers). */
export function readTensorBytes(t: Tensor, openExternal?: ExternalOpener): Uint8Array {
  if (t.data.kind === "external") {
    if (!openExternal) throw new ModelFormatError(`tensor ${quote(t.name)}: external data is not available`);
    const src = openExternal(t.data.location);
    if (t.data.offset + t.bytes > src.size) throw new ModelFormatError(`tensor ${quote(t.name)}: external data is truncated`);
    return src.read(t.data.offset, t.bytes);
  }
  if (t.data.raw) return t.source.read(t.data.raw.offset, t.data.raw.length);
  const values = decodeTyped(t);
  return encodeRaw(t.dtype, values as number[]);
}

function decodeRaw(dtype: DType, b: Uint8Array, n: number): number[] | string[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = new Array(n);
  switch (dtype) {
    case "float32":
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case "float64":
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    case "int64":
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      return out;
    case "uint64":
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, true));
      return out;
    case "int32":
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    case "uint32":
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true);
      return out;
    case "int16":
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      return out;
    case "uint16":
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      return out;
    case "int8":
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    case "uint8":
    case "bool":
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      return out;
    case "float16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    case "bfloat16":
      for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(2 * i, true));
      return out;
    default:
      throw new ModelFormatError(`values of ${dtype} tensors are not decoded`);
  }
}

export function encodeRaw(dtype: DType, values: readonly number[]): Uint8Array {
  const size = { float32: 4, float64: 8, int64: 8, uint64: 8, int32: 4, uint32: 4, int16: 2, uint16: 2, int8: 1, uint8: 1, bool: 1 }[
    dtype as string
  ];
  if (size === undefined) throw new ModelFormatError(`encoding ${dtype} tensors is not supported`);
  const b = new Uint8Array(values.length * size);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => {
    switch (dtype) {
      case "float32": dv.setFloat32(4 * i, v, true); break;
      case "float64": dv.setFloat64(8 * i, v, true); break;
      case "int64": dv.setBigInt64(8 * i, BigInt(Math.trunc(v)), true); break;
      case "uint64": dv.setBigUint64(8 * i, BigInt(Math.trunc(v)), true); break;
      case "int32": dv.setInt32(4 * i, v, true); break;
      case "uint32": dv.setUint32(4 * i, v, true); break;
      case "int16": dv.setInt16(2 * i, v, true); break;
      case "uint16": dv.setUint16(2 * i, v, true); break;
      case "int8": dv.setInt8(i, v); break;
      default: dv.setUint8(i, v);
    }
  });
  return b;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function bf16ToFloat(h: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, h << 16);
  return dv.getFloat32(0);
}

/** Typed fields: float_data 4, int32_data 5, string_data 6, int64_data 7, double_data 10, uint64_data 11. */
function decodeTyped(t: Tensor): number[] | string[] {
  if (t.data.kind !== "embedded") throw new Error("unreachable");
  const r = new ProtoReader(t.source, t.data.proto.offset, t.data.proto.offset + t.data.proto.length);
  const nums: number[] = [];
  const strs: string[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    // More values than the dims allow is refused as soon as it is seen, never collected.
    const what = `tensor ${quote(t.name)} data`;
    if (f === 4) r.repeated(w, WIRE_FIXED32, () => r.float32(), nums, t.elements, what);
    else if (f === 5) r.repeated(w, WIRE_VARINT, () => r.varint(), nums, t.elements, what);
    else if (f === 7) r.repeated(w, WIRE_VARINT, () => r.varint(), nums, t.elements, what);
    else if (f === 11) r.repeated(w, WIRE_VARINT, () => r.uvarint(), nums, t.elements, what);
    else if (f === 10) r.repeated(w, WIRE_FIXED64, () => r.float64(), nums, t.elements, what);
    else if (f === 6 && w === WIRE_LEN) {
      if (strs.length >= t.elements) throw new ModelFormatError(`${what} has more than ${t.elements} strings`);
      strs.push(r.string());
    } else r.skip(w);
  }
  if (t.dtype === "string") return strs;
  if (nums.length !== t.elements) {
    throw new ModelFormatError(`tensor ${quote(t.name)} holds ${nums.length} values, its dims need ${t.elements}`);
  }
  if (t.dtype === "float16" || t.dtype === "bfloat16") {
    // int32_data carries the 16-bit patterns of half types.
    return nums.map(t.dtype === "float16" ? halfToFloat : bf16ToFloat);
  }
  return nums;
}
