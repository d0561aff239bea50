/**
 * Building ONNX files for the reader's tests, the fuzz test and the speed benchmark. Graphs are written
 * through the real encoder (writer.ts); this module adds only what the writer has no reason to write
 * (model-local functions) and ways to produce huge files without holding their bytes.
 * Node-only (it writes files); nothing in the library imports it.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { Attr } from "../../graph/ir.js";
import type { Model } from "../../graph/ir.js";
import type { ByteSource } from "../source.js";
import { encodeModelParts, ProtoWriter, readParts, type WriteOptions } from "./writer.js";

/** A source of `size` bytes that are computed, not stored: weights for a 1 GB model that costs no memory. */
export function patternSource(size: number, name = "<pattern>"): ByteSource {
  return {
    size,
    name,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`read outside ${size} bytes`);
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = (offset + i) * 31 & 0xff;
      return out;
    },
  };
}

/** Write a model to a file part by part: payloads are read in slices, so the file may be far larger than memory. */
export function writeModelFile(path: string, model: Model, extraTopLevelFields: Uint8Array[] = [], opts: WriteOptions = {}): number {
  const { parts, size } = encodeModelParts(model, opts);
  const fd = openSync(path, "w");
  let written = 0;
  try {
    for (const chunk of readParts(parts)) written += writeSync(fd, chunk);
    for (const extra of extraTopLevelFields) written += writeSync(fd, extra);
  } finally {
    closeSync(fd);
  }
  if (written !== size + extraTopLevelFields.reduce((a, b) => a + b.length, 0)) throw new Error(`short write to ${path}`);
  return written;
}

/** Join a writer's in-memory parts into bytes (only for messages without lazy payloads). */
export function finishBytes(w: ProtoWriter): Uint8Array {
  const out = new Uint8Array(w.size);
  let at = 0;
  for (const p of w.finish()) {
    if (!(p instanceof Uint8Array)) throw new Error("finishBytes: message holds a lazy payload");
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface FunctionSpec {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the function takes without a default. */
  attributes?: string[];
  /** Attributes with a default value (FunctionProto.attribute_proto, IR 9+). */
  defaults?: Record<string, { type: "int"; value: number } | { type: "ints"; value: number[] }>;
  nodes: {
    op: string;
    domain?: string;
    inputs: string[];
    outputs: string[];
    /** A plain value, or `{ ref }` naming a function attribute (AttributeProto.ref_attr_name). */
    attrs?: Record<string, number | number[] | { ref: string; type: "int" | "ints" }>;
  }[];
}

/** AttributeProto.AttributeType: INT 2, INTS 7. */
const INT = 2;
const INTS = 7;

function encodeSimpleAttr(name: string, v: number | number[] | { ref: string; type: "int" | "ints" } | Attr): ProtoWriter {
  const a = new ProtoWriter();
  a.string(1, name);
  if (typeof v === "number") {
    a.int(3, v);
    a.int(20, INT);
  } else if (Array.isArray(v)) {
    a.packedInts(8, v);
    a.int(20, INTS);
  } else if ("ref" in v) {
    a.string(21, v.ref);
    a.int(20, v.type === "int" ? INT : INTS);
  } else if (v.type === "int") {
    a.int(3, v.value);
    a.int(20, INT);
  } else if (v.type === "ints") {
    a.packedInts(8, v.value);
    a.int(20, INTS);
  } else throw new Error(`encodeSimpleAttr: ${v.type} attributes are not needed by the tests`);
  return a;
}

/**
 * ModelProto field 25 (functions) holding one FunctionProto, ready to append to an encoded model:
 * protobuf merges top-level fields, so appended bytes are part of the ModelProto.
 */
export function functionField(fn: FunctionSpec, opsets: Record<string, number>): Uint8Array {
  const f = new ProtoWriter();
  f.string(1, fn.name);
  for (const i of fn.inputs) f.string(4, i);
  for (const o of fn.outputs) f.string(5, o);
  for (const a of fn.attributes ?? []) f.string(6, a);
  fn.nodes.forEach((n, k) => {
    const w = new ProtoWriter();
    for (const i of n.inputs) w.string(1, i);
    for (const o of n.outputs) w.string(2, o);
    w.string(3, `${fn.name}_n${k}`);
    w.string(4, n.op);
    for (const [name, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeSimpleAttr(name, v));
    if (n.domain) w.string(7, n.domain);
    f.message(7, w);
  });
  for (const [domain, version] of Object.entries(opsets)) {
    const o = new ProtoWriter();
    if (domain !== "") o.string(1, domain);
    o.int(2, version);
    f.message(9, o);
  }
  f.string(10, fn.domain);
  for (const [name, v] of Object.entries(fn.defaults ?? {})) f.message(11, encodeSimpleAttr(name, v));
  const top = new ProtoWriter();
  top.message(25, f);
  return finishBytes(top);
}
