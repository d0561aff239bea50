/** Writing small GGUF v3 files in tests: metadata (strings, uint32), tensor infos, aligned zero data. */
import { elementCount } from "../graph/element-count.js";
export interface GgufTensorSpec {
  name: string;
  /** Dims as GGUF stores them (fastest-varying first). */
  dims: number[];
  type: number;
  bytes: number;
}

/** A metadata value: a string, a uint32, or (a bigint) a uint64. */
export type GgufTestValue = string | number | bigint;

export function buildGguf(tensors: readonly GgufTensorSpec[], kv: readonly [string, GgufTestValue][] = []): Uint8Array<ArrayBuffer> {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  const u64 = (v: number) => {
    u32(v % 2 ** 32);
    u32(Math.floor(v / 2 ** 32));
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    u64(b.length);
    parts.push(...b);
  };
  u32(0x46554747);
  u32(3);
  u64(tensors.length);
  u64(kv.length);
  for (const [k, v] of kv) {
    str(k);
    if (typeof v === "string") {
      u32(8);
      str(v);
    } else if (typeof v === "bigint") {
      u32(10);
      u32(Number(v % 2n ** 32n));
      u32(Number(v / 2n ** 32n));
    } else {
      u32(4);
      u32(v);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    str(t.name);
    u32(t.dims.length);
    t.dims.forEach(u64);
    u32(t.type);
    u64(offset);
    offset += Math.ceil(t.bytes / 32) * 32;
  }
  while (parts.length % 32 !== 0) parts.push(0);
  const out = new Uint8Array(parts.length + offset);
  out.set(parts);
  return out;
}

/**
 * A tiny Llama in GGUF: every tensor llama.cpp writes, F16 except the norms (F32), with the metadata keys.
 * `editKv` changes the metadata (hostile-input tests repeat a key or claim a huge count).
 */
export function tinyLlamaGguf(editKv: (kv: [string, GgufTestValue][]) => [string, GgufTestValue][] = (kv) => kv): { bytes: Uint8Array<ArrayBuffer>; parameters: number } {
  const h = 64;
  const ff = 128;
  const layers = 2;
  const vocab = 256;
  const kvDim = 2 * 16; // 2 kv heads of 16
  const t: GgufTensorSpec[] = [];
  const add = (name: string, dims: number[], type: number) => {
    const n = elementCount(dims);
    t.push({ name, dims, type, bytes: n * (type === 0 ? 4 : 2) });
  };
  add("token_embd.weight", [h, vocab], 1);
  for (let l = 0; l < layers; l++) {
    add(`blk.${l}.attn_norm.weight`, [h], 0);
    add(`blk.${l}.attn_q.weight`, [h, h], 1);
    add(`blk.${l}.attn_k.weight`, [h, kvDim], 1);
    add(`blk.${l}.attn_v.weight`, [h, kvDim], 1);
    add(`blk.${l}.attn_output.weight`, [h, h], 1);
    add(`blk.${l}.ffn_norm.weight`, [h], 0);
    add(`blk.${l}.ffn_gate.weight`, [h, ff], 1);
    add(`blk.${l}.ffn_up.weight`, [h, ff], 1);
    add(`blk.${l}.ffn_down.weight`, [ff, h], 1);
  }
  add("output_norm.weight", [h], 0);
  add("output.weight", [h, vocab], 1);
  const kv: [string, GgufTestValue][] = [
    ["general.architecture", "llama"],
    ["llama.block_count", layers],
    ["llama.embedding_length", h],
    ["llama.feed_forward_length", ff],
    ["llama.attention.head_count", 4],
    ["llama.attention.head_count_kv", 2],
    ["llama.context_length", 512],
    ["llama.vocab_size", vocab],
  ];
  const parameters = t.reduce((s, x) => s + elementCount(x.dims), 0);
  return { bytes: buildGguf(t, editKv(kv)), parameters };
}
