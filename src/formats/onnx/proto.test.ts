import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../../errors.js";
import { MemorySource } from "../source.js";
import { ProtoReader } from "./proto.js";

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
