/**
 * Mutating real ONNX files for the fuzz test: a seeded PRNG, a generic protobuf tree (no schema: a
 * length-delimited payload is taken as a sub-message when it parses as one) and mutations at two levels:
 * on the tree (huge varints, huge packed counts, duplicated and deleted fields, so the enclosing lengths stay
 * right and the damage reaches the decoder's semantics), and on the bytes (bit flips, truncation, lengths
 * overwritten in place). Used by test/fuzz.test.ts; kept out of test/ because the test runner takes every
 * file there for a test file.
 */

/** mulberry32: tiny, fast, and the same sequence on every machine for a given seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
export const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const intBelow = (rand: Rand, n: number): number => Math.floor(rand() * n);

type Field =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1 | 5; bytes: Uint8Array }
  | { field: number; wire: 2; bytes: Uint8Array; msg: Field[] | undefined };

/** Parsing stops descending past this depth; deeper payloads stay opaque bytes. */
const MAX_TREE_DEPTH = 24;

function readVarint(b: Uint8Array, pos: number, end: number): [bigint, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const byte = b[pos++]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [v, pos];
  }
  return undefined;
}

/** Parse bytes as a message; undefined when they are not one (then they are a string or packed numbers). */
export function parseTree(b: Uint8Array, depth = 0): Field[] | undefined {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const t = readVarint(b, pos, b.length);
    if (!t) return undefined;
    const [tag, p1] = t;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field < 1 || field > 536870911) return undefined;
    pos = p1;
    if (wire === 0) {
      const v = readVarint(b, pos, b.length);
      if (!v) return undefined;
      out.push({ field, wire: 0, value: v[0] });
      pos = v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > b.length) return undefined;
      out.push({ field, wire, bytes: b.subarray(pos, pos + n) });
      pos += n;
    } else if (wire === 2) {
      const l = readVarint(b, pos, b.length);
      if (!l || l[0] > BigInt(b.length - l[1])) return undefined;
      const payload = b.subarray(l[1], l[1] + Number(l[0]));
      // Big payloads (weights) are never messages: do not spend time trying.
      const msg = depth < MAX_TREE_DEPTH && payload.length > 0 && payload.length < 1 << 22 ? parseTree(payload, depth + 1) : undefined;
      out.push({ field, wire: 2, bytes: payload, msg });
      pos = l[1] + payload.length;
    } else return undefined;
  }
  return out;
}

function varintBytes(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? b | 0x80 : b);
  } while (x > 0n);
  return out;
}

/** Encode a tree back to bytes (sub-messages re-encoded, so their lengths follow their contents). */
export function encodeTree(fields: readonly Field[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (c: Uint8Array) => {
    chunks.push(c);
    size += c.length;
  };
  for (const f of fields) {
    push(Uint8Array.from(varintBytes(BigInt(f.field * 8 + f.wire))));
    if (f.wire === 0) push(Uint8Array.from(varintBytes(f.value)));
    else if (f.wire === 2) {
      const body = f.msg ? encodeTree(f.msg) : f.bytes;
      push(Uint8Array.from(varintBytes(BigInt(body.length))));
      push(body);
    } else push(f.bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Every (message, index) in the tree, for picking a field to mutate. */
function allFields(root: Field[]): [Field[], number][] {
  const out: [Field[], number][] = [];
  const walk = (m: Field[]) => {
    m.forEach((f, i) => {
      out.push([m, i]);
      if (f.wire === 2 && f.msg) walk(f.msg);
    });
  };
  walk(root);
  return out;
}

function clone(m: Field[]): Field[] {
  return m.map((f) => (f.wire === 2 && f.msg ? { ...f, msg: clone(f.msg) } : { ...f }));
}

const HUGE_VARINTS = [2n ** 31n, 2n ** 32n + 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 31n), 0n, 2n ** 40n, 65536n];

/** The tree-level mutations: each keeps the file a well-formed protobuf, with wrong contents. */
const TREE_MUTATIONS = {
  hugeVarint(rand: Rand, root: Field[]): string {
    const vs = allFields(root).filter(([m, i]) => m[i]!.wire === 0);
    if (vs.length === 0) return "none";
    const [m, i] = pick(rand, vs);
    const v = pick(rand, HUGE_VARINTS);
    (m[i] as { value: bigint }).value = v;
    return `varint field ${m[i]!.field} = ${v}`;
  },
  hugeCount(rand: Rand, root: Field[]): string {
    // A packed or string payload replaced by many entries: huge dims lists, huge int lists, long names.
    const ls = allFields(root).filter(([m, i]) => m[i]!.wire === 2 && !(m[i] as { msg?: Field[] }).msg);
    if (ls.length === 0) return "none";
    const [m, i] = pick(rand, ls);
    const n = pick(rand, [1000, 100_000, 1_000_000]);
    const fill = pick(rand, [0x01, 0x7f, 0x41]);
    m[i] = { field: m[i]!.field, wire: 2, bytes: new Uint8Array(n).fill(fill), msg: undefined };
    return `payload of field ${m[i]!.field} = ${n} x ${fill}`;
  },
  duplicate(rand: Rand, root: Field[]): string {
    const [m, i] = pick(rand, allFields(root));
    const times = pick(rand, [1, 1, 2, 50]);
    const copies = Array.from({ length: times }, () => clone([m[i]!])[0]!);
    m.splice(i + 1, 0, ...copies);
    return `field ${m[i]!.field} duplicated ${times}x`;
  },
  remove(rand: Rand, root: Field[]): string {
    const [m, i] = pick(rand, allFields(root));
    const f = m[i]!.field;
    m.splice(i, 1);
    return `field ${f} removed`;
  },
  retag(rand: Rand, root: Field[]): string {
    // Same payload under another field number: a string where a message was expected, and so on.
    const [m, i] = pick(rand, allFields(root));
    const f = m[i]!;
    const to = 1 + intBelow(rand, 25);
    m[i] = { ...f, field: to } as Field;
    return `field ${f.field} renumbered ${to}`;
  },
};

/** Byte-level mutations: the file stops being well-formed. */
const BYTE_MUTATIONS = {
  flip(rand: Rand, b: Uint8Array): [Uint8Array, string] {
    const out = b.slice();
    const n = 1 + intBelow(rand, 8);
    // Flip near the start half of the time: structure (graph, nodes) comes first in most exports.
    const span = rand() < 0.5 ? Math.min(out.length, 4096) : out.length;
    for (let k = 0; k < n; k++) {
      const at = intBelow(rand, span);
      out[at] = out[at]! ^ (1 << intBelow(rand, 8));
    }
    return [out, `${n} bit flips`];
  },
  truncate(rand: Rand, b: Uint8Array): [Uint8Array, string] {
    const at = intBelow(rand, b.length);
    return [b.slice(0, at), `truncated at ${at}`];
  },
  lengthInPlace(rand: Rand, b: Uint8Array): [Uint8Array, string] {
    // Find a length-delimited field near a random spot and make its length the widest value that fits.
    const out = b.slice();
    const start = intBelow(rand, Math.max(1, out.length - 16));
    for (let p = start; p < Math.min(out.length - 2, start + 4096); p++) {
      if ((out[p]! & 7) === 2 && out[p]! >= 0x08 && out[p]! < 0x80) {
        let q = p + 1;
        while (q < out.length && out[q]! & 0x80) out[q++] = 0xff;
        if (q < out.length) out[q] = 0x7f;
        return [out, `length at ${p + 1} made huge`];
      }
    }
    return [out, "no length found"];
  },
};

export interface Mutated {
  bytes: Uint8Array;
  /** What was done, to reproduce and to read in a failure message. */
  what: string[];
}

/** One mutated copy of `original` (whose tree is `tree`), decided entirely by `seed`. */
export function mutate(original: Uint8Array, tree: Field[] | undefined, seed: number): Mutated {
  const rand = prng(seed);
  const what: string[] = [];
  let bytes = original;
  if (tree && rand() < 0.6) {
    const root = clone(tree);
    const n = 1 + intBelow(rand, 2);
    for (let k = 0; k < n; k++) {
      const name = pick(rand, Object.keys(TREE_MUTATIONS) as (keyof typeof TREE_MUTATIONS)[]);
      what.push(`${name}: ${TREE_MUTATIONS[name](rand, root)}`);
    }
    bytes = encodeTree(root);
  }
  if (what.length === 0 || rand() < 0.3) {
    const name = pick(rand, Object.keys(BYTE_MUTATIONS) as (keyof typeof BYTE_MUTATIONS)[]);
    const [b, w] = BYTE_MUTATIONS[name](rand, bytes);
    bytes = b;
    what.push(`${name}: ${w}`);
  }
  return { bytes, what };
}
