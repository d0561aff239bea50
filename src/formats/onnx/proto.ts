/**
 * A minimal protobuf wire-format reader over a ByteSource. It reads through a sliding window, and
 * length-delimited fields that the caller does not want (raw_data of weights) are skipped by moving the
 * position: their bytes are never read. Every length is checked against the bytes that remain in the
 * enclosing message before anything is allocated.
 */
import { ModelFormatError } from "../../errors.js";
import { MemorySource, type ByteSource } from "../source.js";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Bytes read from a file source at a time. Large enough that small messages never straddle many refills. */
const WINDOW_BYTES = 1 << 20;
const utf8 = new TextDecoder("utf-8", { fatal: false });
/** Strings up to this many bytes are checked for ASCII and built without the decoder. */
const ASCII_FAST_BYTES = 256;

export class ProtoReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  pos: number;
  /** The end of the message being read; lengths are checked against it. */
  end: number;

  constructor(readonly src: ByteSource, start = 0, end = src.size) {
    this.pos = start;
    this.end = end;
    if (src instanceof MemorySource) {
      this.buf = src.read(0, src.size);
      this.bufStart = 0;
    }
  }

  private fail(what: string): never {
    throw new ModelFormatError(`corrupt protobuf: ${what} at byte ${this.pos}`);
  }

  /** Make bytes [pos, pos+n) available in the window. */
  private ensure(n: number): void {
    if (this.pos + n > this.end) this.fail(`field runs past the end of its message (${this.end})`);
    const offsetInBuf = this.pos - this.bufStart;
    if (offsetInBuf >= 0 && offsetInBuf + n <= this.buf.length) return;
    const length = Math.min(Math.max(n, WINDOW_BYTES), this.src.size - this.pos);
    this.buf = this.src.read(this.pos, length);
    this.bufStart = this.pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as two 32-bit halves (protobuf varints carry at most 64 bits). */
  private varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos - this.bufStart >= this.buf.length || this.pos < this.bufStart) this.ensure(1);
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos - this.bufStart]!;
      this.pos++;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    this.fail("varint longer than 10 bytes");
  }

  /** An unsigned varint as a number (exact below 2^53). */
  uvarint(): number {
    // Fast path: one-byte varints (tags, small lengths) are most of a graph.
    if (this.pos < this.end && this.pos >= this.bufStart && this.pos - this.bufStart < this.buf.length) {
      const b = this.buf[this.pos - this.bufStart]!;
      if (b < 0x80) {
        this.pos++;
        return b;
      }
    }
    const [lo, hi] = this.varint64();
    return hi * 2 ** 32 + lo;
  }

  /** A signed int64/int32 varint (two's complement), exact when |value| < 2^53. */
  varint(): number {
    const [lo, hi] = this.varint64();
    if (hi < 0x80000000) return hi * 2 ** 32 + lo;
    let nlo = (~lo >>> 0) + 1;
    let nhi = ~hi >>> 0;
    if (nlo === 2 ** 32) {
      nlo = 0;
      nhi += 1;
    }
    return -(nhi * 2 ** 32 + nlo);
  }

  fixed32(): number {
    this.ensure(4);
    const o = this.pos - this.bufStart;
    const b = this.buf;
    this.pos += 4;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }

  float32(): number {
    this.ensure(4);
    const o = this.pos - this.bufStart;
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + o, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    this.ensure(8);
    const o = this.pos - this.bufStart;
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + o, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** Tag of the next field: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uvarint();
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field === 0) this.fail("field number 0");
    return [field, wire];
  }

  /** Length prefix of a length-delimited field, checked against the message's end. */
  length(): number {
    const n = this.uvarint();
    if (n > this.end - this.pos) this.fail(`length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  /** Skip a length-delimited payload and return where it was: the bytes are not read. */
  ref(): { offset: number; length: number } {
    const length = this.length();
    const offset = this.pos;
    this.pos += length;
    return { offset, length };
  }

  /** A length-delimited payload; one longer than `maxBytes` is refused before a byte of it is read. */
  bytes(maxBytes = Infinity, what = "field"): Uint8Array {
    const n = this.length();
    if (n > maxBytes) this.fail(`${what} of ${n} bytes is longer than the limit of ${maxBytes}`);
    if (n === 0) return new Uint8Array(0);
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(o, o + n);
  }

  /** A payload of at most `maxBytes`; a longer one is skipped unread and only its length returned. */
  bytesIfAtMost(maxBytes: number): Uint8Array | number {
    const start = this.pos;
    const n = this.length();
    if (n <= maxBytes) {
      this.pos = start;
      return this.bytes();
    }
    this.pos += n;
    return n;
  }

  string(maxBytes = Infinity, what = "string"): string {
    const n = this.length();
    if (n > maxBytes) this.fail(`${what} of ${n} bytes is longer than the limit of ${maxBytes}`);
    if (n === 0) return "";
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    const b = this.buf;
    // Names are short ASCII: building them directly is several times cheaper than a TextDecoder call.
    if (n <= ASCII_FAST_BYTES) {
      let ascii = true;
      for (let i = o; i < o + n; i++) {
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(o, o + n) as unknown as number[]);
    }
    return utf8.decode(b.subarray(o, o + n));
  }

  /** Read a nested message: calls `body` with the reader bounded to the sub-message. */
  message<T>(body: (r: ProtoReader) => T): T {
    const n = this.length();
    const outerEnd = this.end;
    const subEnd = this.pos + n;
    this.end = subEnd;
    try {
      const v = body(this);
      this.pos = subEnd;
      return v;
    } finally {
      this.end = outerEnd;
    }
  }

  /**
   * Read a repeated numeric field that may be packed (wire 2) or not (`elemWire`, the wire type of one
   * element). `out` never grows past `maxCount`: a hostile count is refused, not allocated.
   */
  repeated(wire: number, elemWire: number, one: () => number, out: number[], maxCount = Infinity, what = "repeated field"): void {
    if (wire === WIRE_LEN) {
      const n = this.length();
      const stop = this.pos + n;
      const outerEnd = this.end;
      this.end = stop;
      try {
        while (this.pos < stop) {
          if (out.length >= maxCount) this.fail(`${what} has more than ${maxCount} values`);
          out.push(one());
        }
      } finally {
        this.end = outerEnd;
      }
    } else if (wire === elemWire) {
      if (out.length >= maxCount) this.fail(`${what} has more than ${maxCount} values`);
      out.push(one());
    } else {
      this.fail(`${what} has wire type ${wire}`);
    }
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.uvarint();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) this.fail("truncated fixed64");
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.ref();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) this.fail("truncated fixed32");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }
}

export function expectLen(r: ProtoReader, wire: number, what: string): ProtoReader {
  return expectWire(r, wire, WIRE_LEN, what);
}

/** Protobuf parsers refuse a known field with the wrong wire type: reading it anyway would misread the rest. */
export function expectWire(r: ProtoReader, wire: number, expected: number, what: string): ProtoReader {
  if (wire !== expected) throw new ModelFormatError(`corrupt ONNX: ${what} has wire type ${wire}`);
  return r;
}
