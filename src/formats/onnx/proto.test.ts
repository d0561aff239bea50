import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../../errors.js";
import { MemorySource } from "../source.js";
import { ProtoReader, WIRE_FIXED32, WIRE_VARINT } from "./proto.js";

test("varints, negative int64 and lengths decode", () => {
  // field 1 varint 300; field 2 varint -1 (10 bytes); field 3 bytes "ab"
  const bytes = new Uint8Array([0x08, 0xac, 0x02, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x02, 0x61, 0x62]);
  const r = new ProtoReader(new MemorySource(bytes));
  assert.deepEqual(r.tag(), [1, 0]);
  assert.equal(r.varint(), 300);
  assert.deepEqual(r.tag(), [2, 0]);
  assert.equal(r.varint(), -1);
  assert.deepEqual(r.tag(), [3, 2]);
  assert.equal(r.string(), "ab");
  assert.ok(r.done());
});

test("a length past the end is a ModelFormatError, not an allocation", () => {
  const bytes = new Uint8Array([0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  const r = new ProtoReader(new MemorySource(bytes));
  r.tag();
  assert.throws(() => r.bytes(), ModelFormatError);
});

test("skipped payloads are not read", () => {
  let reads = 0;
  const inner = new MemorySource(new Uint8Array([0x0a, 0x05, 1, 2, 3, 4, 5, 0x10, 0x07]));
  const src = { size: inner.size, name: "x", read: (o: number, l: number) => (reads++, inner.read(o, l)) };
  const r = new ProtoReader(src);
  r.tag();
  const ref = r.ref();
  assert.deepEqual(ref, { offset: 2, length: 5 });
  r.tag();
  assert.equal(r.varint(), 7);
  assert.equal(reads, 1);
});

test("repeated fields: packed and unpacked, refused past maxCount and on a wrong wire type", () => {
  // field 1 packed [1, 2, 3]; field 1 unpacked 4
  const bytes = new Uint8Array([0x0a, 0x03, 1, 2, 3, 0x08, 4]);
  const r = new ProtoReader(new MemorySource(bytes));
  const out: number[] = [];
  let [, w] = r.tag();
  r.repeated(w, WIRE_VARINT, () => r.varint(), out, 4, "dims");
  [, w] = r.tag();
  r.repeated(w, WIRE_VARINT, () => r.varint(), out, 4, "dims");
  assert.deepEqual(out, [1, 2, 3, 4]);
  const capped = new ProtoReader(new MemorySource(bytes));
  [, w] = capped.tag();
  assert.throws(() => capped.repeated(w, WIRE_VARINT, () => capped.varint(), [], 2, "dims"), /dims has more than 2 values/);
  // A float list sent as varints (wire 0) is not misread as fixed32.
  const wrong = new ProtoReader(new MemorySource(new Uint8Array([0x08, 0x05])));
  [, w] = wrong.tag();
  assert.throws(() => wrong.repeated(w, WIRE_FIXED32, () => wrong.float32(), [], 10, "floats"), /floats has wire type 0/);
});

test("a payload over a limit is skipped unread by bytesIfAtMost, refused by bytes(max)", () => {
  const bytes = new Uint8Array([0x0a, 0x05, 1, 2, 3, 4, 5, 0x0a, 0x01, 9]);
  const r = new ProtoReader(new MemorySource(bytes));
  r.tag();
  assert.equal(r.bytesIfAtMost(4), 5);
  r.tag();
  assert.deepEqual([...(r.bytesIfAtMost(4) as Uint8Array)], [9]);
  const strict = new ProtoReader(new MemorySource(bytes));
  strict.tag();
  assert.throws(() => strict.bytes(4, "name"), /name of 5 bytes is longer than the limit of 4/);
});

test("strings decode the same on the ASCII fast path and through the UTF-8 decoder (also invalid bytes, long ones)", () => {
  const cases = ["", "a", "node_MatMul_12", "é", "naïve/∑", "x".repeat(255), "y".repeat(256), "z".repeat(257), `${"a".repeat(250)}ü`, "\u0000\u007f"];
  for (const s of cases) {
    const body = new TextEncoder().encode(s);
    const r = new ProtoReader(new MemorySource(new Uint8Array([body.length & 0x7f | (body.length > 127 ? 0x80 : 0), ...(body.length > 127 ? [body.length >> 7] : []), ...body])));
    assert.equal(r.string(), s, JSON.stringify(s.slice(0, 20)));
  }
  // A lone continuation byte is replaced, as TextDecoder does.
  const bad = new ProtoReader(new MemorySource(new Uint8Array([2, 0x61, 0x80])));
  assert.equal(bad.string(), "a\ufffd");
  const long = new ProtoReader(new MemorySource(new Uint8Array([3, 0x61, 0x62, 0x63])));
  assert.throws(() => long.string(2, "name"), /name of 3 bytes is longer than the limit of 2/);
});
