/**
 * Structural mutators for the fuzzers of GGUF, config.json + safetensors, model.json and images (issue 12),
 * beside the ONNX one (src/formats/onnx/fuzzing.ts). Each takes a seed and a case number and returns the
 * mutated bytes and what was done, the same bytes on every run. Besides byte damage, every mutator has a
 * "valid but huge" class: counts, dims, lengths and nesting rewritten to values a reader must bound without
 * doing the work they claim.
 */
import { buildGguf, type GgufTensorSpec, type GgufTestValue } from "../src/formats/gguf-testing.js";
// The ONNX fuzzer's seeded generator and pickers: a seed means one sequence in every fuzzer.
import { intBelow, pick, prng, type Rand } from "../src/formats/onnx/fuzzing.js";

/** Counts a reader must refuse or bound: past every limit, at the edges of integer types, zero and negative. */
const HUGE_NUMBERS = [0, -1, 1, 1025, 10_001, 1e5, 1e6, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e12, 1e300, 0.5, 65_536, 16_777_217];

/** Byte damage: flips, truncation, an inserted run, a zeroed run. */
export function damageBytes(bytes: Uint8Array, r: Rand, what: string[]): Uint8Array {
  const out = new Uint8Array(bytes);
  switch (intBelow(r, 4)) {
    case 0: {
      const n = 1 + intBelow(r, 8);
      for (let k = 0; k < n; k++) out[intBelow(r, out.length)] = intBelow(r, 256);
      what.push(`${n} random bytes`);
      return out;
    }
    case 1: {
      const at = intBelow(r, bytes.length);
      what.push(`truncated at ${at}`);
      return out.subarray(0, at);
    }
    case 2: {
      const at = intBelow(r, bytes.length);
      const run = new Uint8Array(1 + intBelow(r, 64)).fill(pick(r, [0, 0xff, 0x7f, 0x80]));
      what.push(`${run.length} bytes inserted at ${at}`);
      const grown = new Uint8Array(bytes.length + run.length);
      grown.set(bytes.subarray(0, at));
      grown.set(run, at);
      grown.set(bytes.subarray(at), at + run.length);
      return grown;
    }
    default: {
      const at = intBelow(r, bytes.length);
      const n = Math.min(bytes.length - at, 1 + intBelow(r, 32));
      out.fill(0, at, at + n);
      what.push(`${n} bytes zeroed at ${at}`);
      return out;
    }
  }
}

// ------------------------------------------------------------------------------------------------ JSON

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in a JSON document. */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (at.length >= 32) return out; // a nest made by an earlier round: its top is target enough
  if (Array.isArray(v)) v.slice(0, 64).forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  let o = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  o[path[path.length - 1]!] = value;
  return root;
}

function getAt(root: Json, path: (string | number)[]): Json {
  let o: Json = root;
  for (const k of path) o = (o as Record<string | number, Json>)[k]!;
  return o;
}

/**
 * A JSON document mutated structurally: a value replaced by a huge number, a long string, a long array, a
 * deep nest or another type; a key deleted or repeated (a second, different value after the first); or
 * the text damaged. `keys` are names worth targeting (a config's num_hidden_layers).
 */
export function mutateJson(text: string, seed: number, keys: readonly string[] = []): { bytes: Uint8Array; what: string[] } {
  const r = prng(seed);
  const what: string[] = [];
  const enc = new TextEncoder();
  if (r() < 0.1) return { bytes: damageBytes(enc.encode(text), r, what), what };
  const doc = JSON.parse(text) as Json;
  const rounds = 1 + intBelow(r, 3);
  let out = doc;
  let duplicate: { key: string; value: Json } | undefined;
  const nests: string[] = [];
  for (let k = 0; k < rounds; k++) {
    const all = paths(out);
    const named = all.filter((p) => keys.includes(String(p[p.length - 1])));
    const path = named.length > 0 && r() < 0.5 ? pick(r, named) : pick(r, all);
    const label = path.join(".") || "(root)";
    switch (intBelow(r, 8)) {
      case 0:
      case 1: {
        const n = pick(r, HUGE_NUMBERS);
        what.push(`${label} = ${n}`);
        out = setAt(out, path, n);
        break;
      }
      case 2: {
        const len = pick(r, [0, 1000, 100_000, 1_000_000]);
        what.push(`${label} = string of ${len}`);
        out = setAt(out, path, "x".repeat(len));
        break;
      }
      case 3: {
        const len = pick(r, [0, 3, 10_000, 200_000]);
        const item = pick<Json>(r, [1, "a", null, 1e9]);
        what.push(`${label} = array of ${len} ${JSON.stringify(item)}`);
        out = setAt(out, path, new Array<Json>(len).fill(item));
        break;
      }
      case 4: {
        // Written as text after serialising: a deep nest would overflow JSON.stringify's own recursion.
        const depth = pick(r, [10, 63, 65, 1000, 100_000]);
        const arrays = r() < 0.5;
        nests.push(arrays ? "[".repeat(depth) + "1" + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth));
        what.push(`${label} nested ${depth} deep`);
        out = setAt(out, path, `__nest_${nests.length - 1}__`);
        break;
      }
      case 5: {
        const v = pick<Json>(r, [null, true, "12", [], {}, -0]);
        what.push(`${label} = ${JSON.stringify(v)}`);
        out = setAt(out, path, v);
        break;
      }
      case 6: {
        if (path.length === 0) break;
        const parent = getAt(out, path.slice(0, -1));
        if (parent && typeof parent === "object" && !Array.isArray(parent)) {
          delete (parent as Record<string, Json>)[String(path[path.length - 1])];
          what.push(`${label} deleted`);
        }
        break;
      }
      default: {
        const key = String(path[path.length - 1] ?? pick(r, keys.length ? keys : ["k"]));
        duplicate = { key, value: pick(r, HUGE_NUMBERS) };
        what.push(`key ${key} repeated with ${duplicate.value}`);
      }
    }
  }
  let s = JSON.stringify(out);
  nests.forEach((nest, k) => (s = s.replace(`"__nest_${k}__"`, () => nest)));
  // A repeated key: a second entry for it, written into the first object that has it (JSON.stringify can not).
  if (duplicate) {
    const needle = `${JSON.stringify(duplicate.key)}:`;
    const at = s.indexOf(needle);
    if (at >= 0) s = `${s.slice(0, at)}${needle}${JSON.stringify(duplicate.value)},${s.slice(at)}`;
    else if (s.startsWith("{")) s = `{${needle}1,${needle}${JSON.stringify(duplicate.value)}${s.length > 2 ? "," : ""}${s.slice(1)}`;
  }
  return { bytes: enc.encode(s), what };
}

// ------------------------------------------------------------------------------------------------ GGUF

export interface GgufSpec {
  tensors: GgufTensorSpec[];
  kv: [string, GgufTestValue][];
}

/** A GGUF spec mutated structurally (counts, dims, types, keys), then written; or written and damaged. */
export function mutateGguf(seedSpec: GgufSpec, seed: number): { bytes: Uint8Array; what: string[] } {
  const r = prng(seed);
  const what: string[] = [];
  const spec: GgufSpec = { tensors: seedSpec.tensors.map((t) => ({ ...t, dims: [...t.dims] })), kv: seedSpec.kv.map(([k, v]) => [k, v]) };
  const rounds = 1 + intBelow(r, 3);
  let rawCounts: [number, bigint] | undefined;
  for (let k = 0; k < rounds; k++) {
    switch (intBelow(r, 8)) {
      case 0: {
        const i = intBelow(r, spec.kv.length);
        const [key] = spec.kv[i]!;
        const v = pick<GgufTestValue>(r, [0, 1, 1025, 100_000, 2 ** 32 - 1, 10n ** 12n, 2n ** 63n, "llama", ""]);
        spec.kv[i] = [key, v];
        what.push(`${key} = ${v}`);
        break;
      }
      case 1: {
        const [key] = pick(r, spec.kv);
        const v = pick<GgufTestValue>(r, [100_000, 2, 10n ** 12n]);
        spec.kv.push([key, v]);
        what.push(`${key} repeated (${v})`);
        break;
      }
      case 2: {
        const t = pick(r, spec.tensors);
        const d = intBelow(r, t.dims.length);
        t.dims[d] = pick(r, [0, 2 ** 31, 2 ** 40, 2 ** 53, 3]);
        what.push(`${t.name} dim ${d} = ${t.dims[d]}`);
        break;
      }
      case 3: {
        const t = pick(r, spec.tensors);
        t.type = pick(r, [2, 12, 31, 39, 200, 0xffffffff]);
        what.push(`${t.name} type ${t.type}`);
        break;
      }
      case 4: {
        const t = pick(r, spec.tensors);
        spec.tensors.push({ ...t, dims: [...t.dims] });
        what.push(`tensor ${t.name} repeated`);
        break;
      }
      case 5: {
        const n = pick(r, [100, 5000]);
        for (let j = 0; j < n; j++) spec.kv.push([`x.key${j}`, j]);
        what.push(`${n} more keys`);
        break;
      }
      case 6:
        rawCounts = [pick(r, [8, 16]), pick(r, [2n ** 32n, 2n ** 40n, 2n ** 63n, 1_000_001n])];
        what.push(`${rawCounts[0] === 8 ? "tensor" : "kv"} count = ${rawCounts[1]}`);
        break;
      default: {
        const i = intBelow(r, spec.kv.length);
        spec.kv.splice(i, 1);
        what.push(`key ${i} deleted`);
      }
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = buildGguf(spec.tensors, spec.kv);
  } catch {
    // A spec the writer can not express (a tensor too large to lay out): the seed, damaged instead.
    bytes = buildGguf(seedSpec.tensors, seedSpec.kv);
    what.push("(unwritable, seed used)");
  }
  if (rawCounts) new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(rawCounts[0], rawCounts[1], true);
  if (r() < 0.25) bytes = damageBytes(bytes, r, what);
  return { bytes, what };
}

// ------------------------------------------------------------------------------------------------ images

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

interface PngChunk {
  type: string;
  data: Uint8Array;
}

function pngChunks(png: Uint8Array): PngChunk[] | undefined {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: PngChunk[] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const len = dv.getUint32(at);
    if (at + 12 + len > png.length) return undefined;
    out.push({ type: new TextDecoder().decode(png.subarray(at + 4, at + 8)), data: png.slice(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

function pngBytes(chunks: readonly PngChunk[]): Uint8Array {
  const size = 8 + chunks.reduce((n, c) => n + 12 + c.data.length, 0);
  const out = new Uint8Array(size);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(out.buffer);
  let at = 8;
  for (const c of chunks) {
    dv.setUint32(at, c.data.length);
    const typeAndData = new Uint8Array(4 + c.data.length);
    typeAndData.set(new TextEncoder().encode(c.type));
    typeAndData.set(c.data, 4);
    out.set(typeAndData, at + 4);
    dv.setUint32(at + 8 + c.data.length, crc32(typeAndData));
    at += 12 + c.data.length;
  }
  return out;
}

/**
 * An image mutated: for PNG, the header rewritten (width/height up to 2^31-1, bit depth, colour type) with
 * valid CRCs, chunks repeated or dropped, the data stream cut; for any format, byte damage.
 */
export function mutateImage(seedBytes: Uint8Array, seed: number): { bytes: Uint8Array; what: string[] } {
  const r = prng(seed);
  const what: string[] = [];
  const chunks = seedBytes[0] === 0x89 ? pngChunks(seedBytes) : undefined;
  if (!chunks || r() < 0.3) return { bytes: damageBytes(seedBytes, r, what), what };
  const ihdr = chunks.find((c) => c.type === "IHDR");
  const rounds = 1 + intBelow(r, 2);
  for (let k = 0; k < rounds; k++) {
    switch (intBelow(r, 6)) {
      case 0:
      case 1: {
        if (!ihdr) break;
        const dv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset);
        const w = pick(r, [0, 1, 65_535, 100_000, 2 ** 31 - 1]);
        const h = pick(r, [0, 1, 65_535, 100_000, 2 ** 31 - 1]);
        dv.setUint32(0, w);
        dv.setUint32(4, h);
        what.push(`IHDR ${w}x${h}`);
        break;
      }
      case 2: {
        if (!ihdr) break;
        ihdr.data[8] = pick(r, [1, 2, 4, 8, 16, 3, 0]);
        ihdr.data[9] = pick(r, [0, 2, 3, 4, 6, 5, 7]);
        what.push(`IHDR depth ${ihdr.data[8]} colour ${ihdr.data[9]}`);
        break;
      }
      case 3: {
        const c = pick(r, chunks);
        const n = pick(r, [2, 100, 2000]);
        const at = chunks.indexOf(c);
        chunks.splice(at, 0, ...Array.from({ length: n - 1 }, () => ({ type: c.type, data: c.data })));
        what.push(`${c.type} repeated ${n}x`);
        break;
      }
      case 4: {
        const i = intBelow(r, chunks.length);
        what.push(`${chunks[i]!.type} dropped`);
        chunks.splice(i, 1);
        break;
      }
      default: {
        const idat = chunks.find((c) => c.type === "IDAT");
        if (!idat) break;
        const cut = intBelow(r, idat.data.length);
        idat.data = idat.data.slice(0, cut);
        what.push(`IDAT cut to ${cut}`);
      }
    }
  }
  let bytes = pngBytes(chunks);
  if (r() < 0.2) bytes = damageBytes(bytes, r, what);
  return { bytes, what };
}
