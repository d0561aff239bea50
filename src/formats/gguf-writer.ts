/**
 * Writing GGUF v3 files that llama.cpp loads: typed metadata, tensor infos, aligned tensor data with random
 * weights. For tests, benchmarks and the fuzzer's seeds; memlens itself only ever reads a GGUF's header.
 *
 * Layout (ggml's gguf.cpp): magic, version, tensor count, kv count, the kv pairs, the tensor infos (name,
 * n_dims, dims, type, offset relative to the data section), padding to general.alignment (32 by default),
 * then each tensor's data at its offset, every offset a multiple of the alignment.
 */
import { xorshift } from "../xorshift.js";
import { GGML_TYPES } from "./gguf.js";
import { elementCount } from "../graph/element-count.js";

/** GGUF value type codes (gguf.h). */
export const GGUF_TYPE = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

export type GgufScalarKind = "u32" | "i32" | "f32" | "bool" | "string" | "u64";
export type GgufMetaValue =
  | { kind: GgufScalarKind; value: number | boolean | string }
  | { kind: "array"; of: "string" | "f32" | "i32"; values: readonly (string | number)[] };

export const meta = {
  u32: (value: number): GgufMetaValue => ({ kind: "u32", value }),
  i32: (value: number): GgufMetaValue => ({ kind: "i32", value }),
  f32: (value: number): GgufMetaValue => ({ kind: "f32", value }),
  bool: (value: boolean): GgufMetaValue => ({ kind: "bool", value }),
  str: (value: string): GgufMetaValue => ({ kind: "string", value }),
  strings: (values: readonly string[]): GgufMetaValue => ({ kind: "array", of: "string", values }),
  f32s: (values: readonly number[]): GgufMetaValue => ({ kind: "array", of: "f32", values }),
  i32s: (values: readonly number[]): GgufMetaValue => ({ kind: "array", of: "i32", values }),
};

export interface GgufWriterTensor {
  name: string;
  /** As GGUF stores them: fastest-varying first (a [n_embd, n_vocab] embedding). */
  dims: readonly number[];
  /** ggml type code (GGML_TYPES). */
  type: number;
}

export interface GgufWriterInput {
  metadata: readonly (readonly [string, GgufMetaValue])[];
  tensors: readonly GgufWriterTensor[];
  alignment?: number;
}

export interface GgufLayout {
  header: Uint8Array<ArrayBuffer>;
  /** Each tensor's data offset relative to the data section, and its bytes. */
  offsets: number[];
  sizes: number[];
  /** Header plus padded data: the file's size. */
  fileSize: number;
}

/** Bytes of a tensor of ggml type `type` with these dims; the first dim must be whole blocks (ggml's rule). */
export function tensorBytes(type: number, dims: readonly number[]): number {
  const t = GGML_TYPES[type];
  if (!t) throw new Error(`unknown ggml type ${type}`);
  const row = dims[0] ?? 1;
  if (row % t.block !== 0) throw new Error(`a row of ${row} is not whole ${t.name} blocks of ${t.block}`);
  return elementCount(dims) / t.block * t.bytes;
}

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void { this.grow(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number): void { this.grow(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number): void { this.grow(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  u64(v: number): void { this.grow(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  u8(v: number): void { this.grow(1); this.buf[this.length++] = v; }
  bytes(b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.length); this.length += b.length; }
  str(s: string): void { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  pad(alignment: number): void { while (this.length % alignment !== 0) this.u8(0); }
  result(): Uint8Array<ArrayBuffer> { return this.buf.slice(0, this.length); }
}

function writeValue(w: ByteWriter, v: GgufMetaValue): void {
  if (v.kind === "array") {
    w.u32(GGUF_TYPE.array);
    w.u32(GGUF_TYPE[v.of === "string" ? "string" : v.of]);
    w.u64(v.values.length);
    for (const x of v.values) {
      if (v.of === "string") w.str(String(x));
      else if (v.of === "f32") w.f32(Number(x));
      else w.i32(Number(x));
    }
    return;
  }
  w.u32(GGUF_TYPE[v.kind]);
  if (v.kind === "string") w.str(String(v.value));
  else if (v.kind === "bool") w.u8(v.value ? 1 : 0);
  else if (v.kind === "f32") w.f32(Number(v.value));
  else if (v.kind === "i32") w.i32(Number(v.value));
  else if (v.kind === "u64") w.u64(Number(v.value));
  else w.u32(Number(v.value));
}

/** The header and where each tensor's data goes. */
export function ggufLayout(input: GgufWriterInput): GgufLayout {
  const alignment = input.alignment ?? 32;
  const w = new ByteWriter();
  w.u32(0x46554747);
  w.u32(3);
  w.u64(input.tensors.length);
  const kvs = input.alignment !== undefined ? [...input.metadata, ["general.alignment", meta.u32(alignment)] as const] : input.metadata;
  w.u64(kvs.length);
  for (const [key, value] of kvs) {
    w.str(key);
    writeValue(w, value);
  }
  const offsets: number[] = [];
  const sizes: number[] = [];
  let offset = 0;
  for (const t of input.tensors) {
    const bytes = tensorBytes(t.type, t.dims);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offsets.push(offset);
    sizes.push(bytes);
    offset += Math.ceil(bytes / alignment) * alignment;
  }
  w.pad(alignment);
  const header = w.result();
  return { header, offsets, sizes, fileSize: header.length + offset };
}

/** The writer's generator (src/xorshift.ts): the same seed writes the same file. */
export { xorshift };

/** A random fp16 value of magnitude 2^-8..2^-2 (sign random): finite weights and scales, no NaN or Inf. */
function smallHalf(r: () => number): number {
  const x = r();
  const exponent = 7 + (x % 6); // biased exponent 7..12: 2^-8 .. 2^-3 (times the mantissa 1..2)
  return ((x >>> 16) & 0x8000) | (exponent << 10) | ((x >>> 4) & 0x3ff);
}

/**
 * Fill `out` with random weights of ggml type `type`: random quant bits with finite fp16 scales at the
 * places ggml's block structs keep them (block_q4_0/q8_0: d first; block_q4_K: d, dmin first; block_q6_K: d last).
 */
export function fillRandom(out: Uint8Array, type: number, r: () => number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const name = GGML_TYPES[type]?.name ?? "";
  if (name === "F32") {
    for (let i = 0; i + 4 <= out.length; i += 4) dv.setFloat32(i, ((r() / 2 ** 32) - 0.5) * 0.1, true);
    return;
  }
  if (name === "F16" || name === "BF16") {
    for (let i = 0; i + 2 <= out.length; i += 2) {
      const h = smallHalf(r);
      // bf16 of the same magnitude: sign, 8-bit exponent (bias 127), 7-bit mantissa.
      dv.setUint16(i, name === "F16" ? h : ((h & 0x8000) | ((((h >> 10) & 31) - 15 + 127) << 7) | ((h >> 3) & 0x7f)), true);
    }
    return;
  }
  for (let i = 0; i + 4 <= out.length; i += 4) dv.setUint32(i, r(), true);
  for (let i = out.length & ~3; i < out.length; i++) out[i] = r() & 255;
  const t = GGML_TYPES[type];
  if (!t) return;
  const scaleAt: readonly number[] = name === "Q4_K" || name === "Q5_K" || name === "Q4_1" || name === "Q5_1" ? [0, 2] : name === "Q6_K" ? [208] : [0];
  for (let b = 0; b + t.bytes <= out.length; b += t.bytes) for (const s of scaleAt) dv.setUint16(b + s, smallHalf(r), true);
}

/** The whole file in memory: for small files (tests, fuzz seeds). */
export function ggufBytes(input: GgufWriterInput, seed = 1): Uint8Array<ArrayBuffer> {
  const layout = ggufLayout(input);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.header);
  const r = xorshift(seed);
  input.tensors.forEach((t, i) => {
    const start = layout.header.length + layout.offsets[i]!;
    fillRandom(out.subarray(start, start + layout.sizes[i]!), t.type, r);
  });
  return out;
}

/** Stream the file through `write` tensor by tensor, so a large model never sits whole in memory. */
export function writeGgufChunks(input: GgufWriterInput, write: (chunk: Uint8Array) => void, seed = 1): number {
  const layout = ggufLayout(input);
  write(layout.header);
  const r = xorshift(seed);
  const alignment = input.alignment ?? 32;
  input.tensors.forEach((t, i) => {
    const size = layout.sizes[i]!;
    const padded = Math.ceil(size / alignment) * alignment;
    const chunk = new Uint8Array(padded);
    fillRandom(chunk.subarray(0, size), t.type, r);
    write(chunk);
  });
  return layout.fileSize;
}

/**
 * The file the writer would write, as a ByteSource whose weights read as zeros: a header reader sees the real
 * header, offsets and size without the weights being generated (tests of header-only estimates).
 */
export function headerSource(input: GgufWriterInput, name = "model.gguf"): { size: number; name: string; read(offset: number, length: number): Uint8Array } {
  const { header, fileSize } = ggufLayout(input);
  return {
    size: fileSize,
    name,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || length < 0 || offset + length > fileSize) throw new RangeError(`read [${offset}, ${offset + length}) outside ${fileSize} bytes`);
      const out = new Uint8Array(length);
      if (offset < header.length) out.set(header.subarray(offset, Math.min(header.length, offset + length)));
      return out;
    },
  };
}
