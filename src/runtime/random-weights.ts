/**
 * `--random-weights`: an architecture-only model (its external weight files absent) made runnable. Each
 * absent side file is generated in memory and handed to onnxruntime as external data; nothing is written.
 * Values are seeded (reproducible) and scaled like PyTorch's default init (uniform in +-1/sqrt(fan_in)),
 * so activations stay finite through deep stacks; integer tensors are zero (valid as indices).
 */
import { freemem } from "node:os";
import { InputError } from "../errors.js";
import type { Model, Tensor } from "../graph/ir.js";
import { resolveExternal } from "../formats/load-node.js";
import { elementCount } from "../graph/element-count.js";
import { xorshift } from "../xorshift.js";

export interface ExternalBytes {
  /** The `location` exactly as the model writes it: onnxruntime matches on it. */
  path: string;
  data: Uint8Array;
}

export interface RandomWeights {
  files: ExternalBytes[];
  /** Initializers that got random values. */
  tensors: number;
  bytes: number;
}

/** Keep a margin of free memory: onnxruntime copies the weights into its own buffers too. */
const FREE_MEMORY_SHARE = 0.4;

/** The external data files the model names that are not there. */
export function absentExternalFiles(model: Model, modelPath: string): string[] {
  const absent = new Set<string>();
  for (const t of model.graph.initializers.values()) {
    if (t.data.kind !== "external" || absent.has(t.data.location)) continue;
    if (resolveExternal(modelPath, t.data.location, t.name, false) === undefined) absent.add(t.data.location);
  }
  return [...absent];
}

export function randomExternalData(model: Model, modelPath: string, seed = 1): RandomWeights {
  const absent = new Map<string, Tensor[]>();
  for (const t of model.graph.initializers.values()) {
    if (t.data.kind !== "external") continue;
    if (resolveExternal(modelPath, t.data.location, t.name, false) !== undefined) continue;
    const list = absent.get(t.data.location) ?? [];
    list.push(t);
    absent.set(t.data.location, list);
  }
  let total = 0;
  const sizes = new Map<string, number>();
  for (const [location, tensors] of absent) {
    let end = 0;
    for (const t of tensors) {
      if (t.data.kind !== "external") continue;
      end = Math.max(end, t.data.offset + (t.data.length ?? t.bytes));
    }
    sizes.set(location, end);
    total += end;
  }
  if (total > freemem() * FREE_MEMORY_SHARE) {
    throw new InputError(`random weights need ${total} bytes in memory; only ${freemem()} bytes are free`);
  }
  const rng = uniform(seed);
  const files: ExternalBytes[] = [];
  let count = 0;
  for (const [location, tensors] of absent) {
    const data = new Uint8Array(sizes.get(location)!);
    for (const t of tensors) {
      if (t.data.kind !== "external") continue;
      fill(data, t.data.offset, t, rng);
      count++;
    }
    files.push({ path: location, data });
  }
  return { files, tensors: count, bytes: total };
}

function fill(buf: Uint8Array, offset: number, t: Tensor, rng: () => number): void {
  const fanIn = t.dims.length > 1 ? elementCount(t.dims.slice(1)) : Math.max(1, t.dims[0] ?? 1);
  const bound = 1 / Math.sqrt(Math.max(1, fanIn));
  const view = new DataView(buf.buffer, buf.byteOffset + offset, t.bytes);
  const n = t.elements;
  switch (t.dtype) {
    case "float32":
      // Aligned offsets (the usual case) get a Float32Array; DataView is the fallback.
      if ((buf.byteOffset + offset) % 4 === 0) {
        const f = new Float32Array(buf.buffer, buf.byteOffset + offset, n);
        for (let i = 0; i < n; i++) f[i] = (rng() * 2 - 1) * bound;
      } else for (let i = 0; i < n; i++) view.setFloat32(i * 4, (rng() * 2 - 1) * bound, true);
      break;
    case "float64":
      for (let i = 0; i < n; i++) view.setFloat64(i * 8, (rng() * 2 - 1) * bound, true);
      break;
    case "float16":
      for (let i = 0; i < n; i++) view.setUint16(i * 2, toHalf((rng() * 2 - 1) * bound), true);
      break;
    case "bfloat16":
      for (let i = 0; i < n; i++) view.setUint16(i * 2, toBfloat16((rng() * 2 - 1) * bound), true);
      break;
    default:
      // Integers, booleans, 8-bit floats: zeros (already there), valid as indices and as quantized weights.
      break;
  }
}

/** Uniform in [0, 1) from the shared xorshift32 sequence. */
function uniform(seed: number): () => number {
  const next = xorshift(seed);
  return () => next() / 0x100000000;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toBfloat16(x: number): number {
  f32[0] = x;
  return u32[0]! >>> 16;
}

/** IEEE half from a small float (the values here are within +-1, so no overflow handling is needed). */
function toHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign; // too small for a normal half: zero is fine for random weights
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}
