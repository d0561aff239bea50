/**
 * safetensors: an 8-byte little-endian header length, then a JSON header naming every tensor's dtype, shape
 * and byte range. Only those bytes are read: parameter counts and bytes are exact without touching weights.
 * Sharded checkpoints list their shards in `*.safetensors.index.json` (`weight_map`).
 */
import { ModelFormatError } from "../errors.js";
import { quote } from "./quote.js";
import { parseJson } from "./json.js";
import type { ByteSource } from "./source.js";
import { elementCount } from "../graph/element-count.js";

/** A header larger than this is not a real checkpoint's (the reference implementation caps it at 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bits per element of every safetensors dtype. */
export const SAFETENSORS_DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32, I64: 64, U64: 64, F64: 64, C64: 64, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  elements: number;
  bytes: number;
  /** Byte range inside the file (absolute). */
  offset: number;
}

export interface SafetensorsHeader {
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
  /** Bytes of header (8 + JSON). */
  headerBytes: number;
}

export const safetensorsFormat = {
  id: "safetensors" as const,
  /** The JSON header starts with `{` right after the 8-byte length. */
  match(head: Uint8Array): boolean {
    return head.length > 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0;
  },
};

/** A value for a message: its JSON, cut short (a hostile header may hold a megabyte where a shape belongs). */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

export function readSafetensorsHeader(src: ByteSource): SafetensorsHeader {
  if (src.size < 8) throw new ModelFormatError(`${src.name}: too short for a safetensors file (${src.size} bytes)`);
  const lenBytes = src.read(0, 8);
  const dv = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new ModelFormatError(`${src.name}: safetensors header of ${n} bytes exceeds ${MAX_HEADER_BYTES}`);
  if (8 + n > src.size) throw new ModelFormatError(`${src.name}: safetensors header of ${n} bytes runs past the end of the file`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(src.read(8, n));
  } catch (e) {
    throw new ModelFormatError(`${src.name}: safetensors header is not UTF-8 (${(e as Error).message})`);
  }
  // A tensor named twice is refused (the safetensors crate refuses duplicate keys too), not last-wins.
  const json = parseJson(text, `${src.name}: safetensors header`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFormatError(`${src.name}: safetensors header is not a JSON object`);
  }
  const dataStart = 8 + n;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ModelFormatError(`${src.name}: tensor ${quote(name)} is ${brief(entry)}, not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const bits = typeof e.dtype === "string" && Object.hasOwn(SAFETENSORS_DTYPE_BITS, e.dtype) ? SAFETENSORS_DTYPE_BITS[e.dtype] : undefined;
    if (bits === undefined) throw new ModelFormatError(`${src.name}: tensor '${name}' has unknown dtype ${brief(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelFormatError(`${src.name}: tensor '${name}' has shape ${brief(e.shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[1] < offs[0]) {
      throw new ModelFormatError(`${src.name}: tensor '${name}' has data_offsets ${brief(offs)}`);
    }
    const shape = e.shape as number[];
    const elements = elementCount(shape);
    if (!Number.isSafeInteger(elements)) throw new ModelFormatError(`${src.name}: tensor '${name}' claims ${elements} elements`);
    const bytes = Math.ceil((elements * bits) / 8);
    const [begin, end] = offs as [number, number];
    if (end - begin !== bytes) {
      throw new ModelFormatError(`${src.name}: tensor '${name}' spans ${end - begin} bytes, ${e.dtype}${JSON.stringify(shape)} needs ${bytes}`);
    }
    if (dataStart + end > src.size) throw new ModelFormatError(`${src.name}: tensor '${name}' runs past the end of the file`);
    tensors.push({ name, dtype: e.dtype as string, shape, elements, bytes, offset: dataStart + begin });
  }
  checkDisjoint(tensors, src.name);
  return { tensors, metadata, headerBytes: dataStart };
}

/** Tensors' byte ranges may not overlap: overlapping ranges would count the same bytes as two parameters. */
function checkDisjoint(tensors: readonly SafetensorsTensor[], file: string): void {
  const byStart = tensors.filter((t) => t.bytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1]!;
    const t = byStart[i]!;
    if (t.offset < prev.offset + prev.bytes) {
      throw new ModelFormatError(`${file}: tensors ${quote(prev.name)} and ${quote(t.name)} overlap (data_offsets [${prev.offset}, ${prev.offset + prev.bytes}) and [${t.offset}, ${t.offset + t.bytes}) from the file's start)`);
    }
  }
}

/** The shard files named by a `*.safetensors.index.json`, each once, refusing paths that leave the folder. */
export function shardsOfIndex(indexJson: string, indexName: string): string[] {
  const parsed = parseJson(indexJson, indexName);
  const map = (parsed as { weight_map?: unknown })?.weight_map;
  if (typeof map !== "object" || map === null) throw new ModelFormatError(`${indexName}: no weight_map`);
  const files = new Set<string>();
  for (const f of Object.values(map as Record<string, unknown>)) {
    if (typeof f !== "string" || f.includes("..") || f.startsWith("/") || f.includes("\\") || f.includes("\0")) {
      throw new ModelFormatError(`${indexName}: shard path ${JSON.stringify(f)} escapes the model's folder`);
    }
    files.add(f);
  }
  return [...files].sort();
}
