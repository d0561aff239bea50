/**
 * GGUF (llama.cpp): a header with metadata key/values and tensor infos, then aligned tensor data. Only the
 * header is read. Every count and length is checked against a named limit and against the file's size
 * before anything is allocated.
 */
import { ModelFormatError } from "../errors.js";
import type { ByteSource } from "./source.js";
import { elementCount } from "../graph/element-count.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
/** Limits: a real model has a few thousand tensors and metadata entries, strings of at most a few MB. */
export const MAX_TENSOR_COUNT = 1_000_000;
export const MAX_KV_COUNT = 1_000_000;
export const MAX_STRING_BYTES = 64 * 1024 * 1024;
export const MAX_ARRAY_LENGTH = 16_000_000;
export const MAX_DIMS = 8;
const DEFAULT_ALIGNMENT = 32;

/**
 * ggml tensor types: [block size in elements, bytes per block], from ggml's type traits (ggml-common.h block
 * structs). Q8_1's block holds two fp16 values and 32 int8 (36 bytes); some Python tables say 40.
 */
export const GGML_TYPES: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: "F32", block: 1, bytes: 4 },
  1: { name: "F16", block: 1, bytes: 2 },
  2: { name: "Q4_0", block: 32, bytes: 18 },
  3: { name: "Q4_1", block: 32, bytes: 20 },
  6: { name: "Q5_0", block: 32, bytes: 22 },
  7: { name: "Q5_1", block: 32, bytes: 24 },
  8: { name: "Q8_0", block: 32, bytes: 34 },
  9: { name: "Q8_1", block: 32, bytes: 36 },
  10: { name: "Q2_K", block: 256, bytes: 84 },
  11: { name: "Q3_K", block: 256, bytes: 110 },
  12: { name: "Q4_K", block: 256, bytes: 144 },
  13: { name: "Q5_K", block: 256, bytes: 176 },
  14: { name: "Q6_K", block: 256, bytes: 210 },
  15: { name: "Q8_K", block: 256, bytes: 292 },
  16: { name: "IQ2_XXS", block: 256, bytes: 66 },
  17: { name: "IQ2_XS", block: 256, bytes: 74 },
  18: { name: "IQ3_XXS", block: 256, bytes: 98 },
  19: { name: "IQ1_S", block: 256, bytes: 50 },
  20: { name: "IQ4_NL", block: 32, bytes: 18 },
  21: { name: "IQ3_S", block: 256, bytes: 110 },
  22: { name: "IQ2_S", block: 256, bytes: 82 },
  23: { name: "IQ4_XS", block: 256, bytes: 136 },
  24: { name: "I8", block: 1, bytes: 1 },
  25: { name: "I16", block: 1, bytes: 2 },
  26: { name: "I32", block: 1, bytes: 4 },
  27: { name: "I64", block: 1, bytes: 8 },
  28: { name: "F64", block: 1, bytes: 8 },
  29: { name: "IQ1_M", block: 256, bytes: 56 },
  30: { name: "BF16", block: 1, bytes: 2 },
  34: { name: "TQ1_0", block: 256, bytes: 54 },
  35: { name: "TQ2_0", block: 256, bytes: 66 },
  39: { name: "MXFP4", block: 32, bytes: 17 },
};

/** Bytes of a tensor of `elements` elements of ggml type `type`: whole blocks (the row must divide). */
export function ggmlBytes(type: number, elements: number): number {
  const t = GGML_TYPES[type];
  if (!t) throw new ModelFormatError(`unknown ggml type ${type}`);
  if (elements % t.block !== 0) throw new ModelFormatError(`${elements} elements is not a whole number of ${t.name} blocks (${t.block})`);
  return (elements / t.block) * t.bytes;
}

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensor {
  name: string;
  /** Dims as stored (fastest-varying first). */
  dims: number[];
  type: number;
  typeName: string;
  elements: number;
  bytes: number;
  /** Absolute offset in the file. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Record<string, GgufValue>;
  tensors: GgufTensor[];
  dataStart: number;
}

export const ggufFormat = {
  id: "gguf" as const,
  match(head: Uint8Array): boolean {
    return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
  },
};

/** A bounds-checked little-endian cursor over the header, reading the source in windows. */
class Cursor {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  constructor(private readonly src: ByteSource) {}
  private need(n: number): DataView {
    if (this.pos + n > this.src.size) throw new ModelFormatError(`${this.src.name}: GGUF header truncated at byte ${this.pos}`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      this.bufStart = this.pos;
      this.buf = this.src.read(this.pos, Math.min(this.src.size - this.pos, Math.max(n, 1 << 20)));
    }
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + (this.pos - this.bufStart), n);
    this.pos += n;
    return dv;
  }
  u8 = () => this.need(1).getUint8(0);
  i8 = () => this.need(1).getInt8(0);
  u16 = () => this.need(2).getUint16(0, true);
  i16 = () => this.need(2).getInt16(0, true);
  u32 = () => this.need(4).getUint32(0, true);
  i32 = () => this.need(4).getInt32(0, true);
  f32 = () => this.need(4).getFloat32(0, true);
  f64 = () => this.need(8).getFloat64(0, true);
  u64(): number {
    const v = this.need(8).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFormatError(`${this.src.name}: GGUF count ${v} is not a real count`);
    return Number(v);
  }
  i64 = () => this.need(8).getBigInt64(0, true);
  string(): string {
    const n = this.u64();
    if (n > MAX_STRING_BYTES) throw new ModelFormatError(`${this.src.name}: GGUF string of ${n} bytes exceeds ${MAX_STRING_BYTES}`);
    if (this.pos + n > this.src.size) throw new ModelFormatError(`${this.src.name}: GGUF string runs past the end of the file`);
    const dv = this.need(n);
    return new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset, n));
  }
}

function readValue(c: Cursor, type: number, name: string, depth = 0): GgufValue {
  switch (type) {
    case 0: return c.u8();
    case 1: return c.i8();
    case 2: return c.u16();
    case 3: return c.i16();
    case 4: return c.u32();
    case 5: return c.i32();
    case 6: return c.f32();
    case 7: return c.u8() !== 0;
    case 8: return c.string();
    case 9: {
      if (depth > 4) throw new ModelFormatError(`GGUF key '${name}': arrays nested too deep`);
      const itemType = c.u32();
      const n = c.u64();
      if (n > MAX_ARRAY_LENGTH) throw new ModelFormatError(`GGUF key '${name}': array of ${n} exceeds ${MAX_ARRAY_LENGTH}`);
      const out: GgufValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(c, itemType, name, depth + 1));
      return out;
    }
    case 10: return c.u64();
    case 11: return c.i64();
    case 12: return c.f64();
    default:
      throw new ModelFormatError(`GGUF key '${name}': unknown value type ${type}`);
  }
}

export function readGguf(src: ByteSource): GgufFile {
  const c = new Cursor(src);
  if (c.u32() !== GGUF_MAGIC) throw new ModelFormatError(`${src.name}: not a GGUF file`);
  const version = c.u32();
  if (version < 2 || version > 3) throw new ModelFormatError(`${src.name}: GGUF version ${version} is not supported (2 and 3 are)`);
  const tensorCount = c.u64();
  const kvCount = c.u64();
  if (tensorCount > MAX_TENSOR_COUNT) throw new ModelFormatError(`${src.name}: ${tensorCount} tensors exceeds ${MAX_TENSOR_COUNT}`);
  if (kvCount > MAX_KV_COUNT) throw new ModelFormatError(`${src.name}: ${kvCount} metadata entries exceeds ${MAX_KV_COUNT}`);
  // Each entry needs at least a few bytes: a count the file can not hold is refused before looping.
  if (tensorCount * 24 + kvCount * 12 > src.size) throw new ModelFormatError(`${src.name}: counts exceed what the file can hold`);
  const metadata: Record<string, GgufValue> = {};
  // A key given twice is refused: llama.cpp's gguf reader refuses it too (gguf.cpp, "duplicate key"), and a
  // reader that kept either value would disagree with one that kept the other.
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    if (Object.hasOwn(metadata, key)) throw new ModelFormatError(`${src.name}: GGUF metadata key '${key.slice(0, 200)}' appears twice`);
    metadata[key] = readValue(c, c.u32(), key);
  }
  const infos: Omit<GgufTensor, "offset">[] = [];
  const rel: number[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string();
    if (names.has(name)) throw new ModelFormatError(`${src.name}: GGUF tensor '${name.slice(0, 200)}' appears twice`);
    names.add(name);
    const nDims = c.u32();
    if (nDims > MAX_DIMS) throw new ModelFormatError(`${src.name}: tensor '${name}' has ${nDims} dims (max ${MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64());
    const type = c.u32();
    const elements = elementCount(dims);
    if (!Number.isSafeInteger(elements)) throw new ModelFormatError(`${src.name}: tensor '${name}' claims ${elements} elements`);
    const t = GGML_TYPES[type];
    if (!t) throw new ModelFormatError(`${src.name}: tensor '${name}' has unknown ggml type ${type}`);
    infos.push({ name, dims, type, typeName: t.name, elements, bytes: ggmlBytes(type, elements) });
    rel.push(c.u64());
  }
  const alignment = typeof metadata["general.alignment"] === "number" ? (metadata["general.alignment"] as number) : DEFAULT_ALIGNMENT;
  if (!(alignment > 0 && (alignment & (alignment - 1)) === 0)) throw new ModelFormatError(`${src.name}: general.alignment ${alignment} is not a power of two`);
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const tensors = infos.map((t, i) => {
    const offset = dataStart + rel[i]!;
    if (offset + t.bytes > src.size) throw new ModelFormatError(`${src.name}: tensor '${t.name}' runs past the end of the file`);
    return { ...t, offset };
  });
  return { version, metadata, tensors, dataStart };
}
