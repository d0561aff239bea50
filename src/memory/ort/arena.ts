/**
 * ONNX Runtime's BFC arena (onnxruntime/core/framework/bfc_arena.cc), simulated: which regions it asks the
 * system for, and which of their bytes are ever written (the pages a process's RSS counts).
 *
 * Rules modelled: requests rounded up to 256 B; free chunks kept in 21 bins of 256 B << i, searched
 * best-fit (smallest size, then lowest address) from the request's bin up; a chunk is split only when it
 * is at least twice the request or would waste >= max_dead_bytes_per_chunk (128 MiB); freed chunks merge
 * with free neighbours of the same region; regions are never returned. kNextPowerOfTwo extension: the
 * region size starts at the initial chunk (1 MiB), doubles until the request fits, and after an extension
 * that did not need to grow it doubles for the next one while that stays under 1 GiB.
 */
import { exactBytes } from "../exact-size.js";

export const ARENA_MIN_ALLOCATION = 256;
export const ARENA_BINS = 21;
export const PAGE_BYTES = 4096;

export interface ArenaConfig {
  initialChunkBytes: number;
  maxDeadBytesPerChunk: number;
  maxPowerOfTwoExtendBytes: number;
  strategy: "nextPowerOfTwo" | "sameAsRequested";
}

/** onnxruntime's defaults (OrtArenaCfg with every field -1). */
export const DEFAULT_ARENA: ArenaConfig = {
  initialChunkBytes: 1 << 20,
  maxDeadBytesPerChunk: 128 << 20,
  maxPowerOfTwoExtendBytes: 1 << 30,
  strategy: "nextPowerOfTwo",
};

interface Chunk {
  region: number;
  offset: number;
  size: number;
  free: boolean;
}

interface Region {
  size: number;
  /** Chunks in address order. */
  chunks: Chunk[];
  /** Written byte ranges, merged and sorted. */
  touched: [number, number][];
}

export function roundArenaBytes(n: number): number {
  return Math.max(ARENA_MIN_ALLOCATION, Math.ceil(n / ARENA_MIN_ALLOCATION) * ARENA_MIN_ALLOCATION);
}

export function binFor(bytes: number): number {
  const v = Math.floor(bytes / ARENA_MIN_ALLOCATION);
  return v <= 1 ? 0 : Math.min(ARENA_BINS - 1, Math.floor(Math.log2(v)));
}

/** A handle to one live allocation. */
export interface ArenaBlock {
  readonly chunk: unknown;
}

export class BfcArena {
  readonly regions: Region[] = [];
  private nextRegionBytes: number;
  /** Sum of live chunk sizes (what the arena's stats call bytes in use). */
  inUse = 0;
  peakInUse = 0;

  constructor(readonly config: ArenaConfig = DEFAULT_ARENA) {
    this.nextRegionBytes = roundArenaBytes(config.initialChunkBytes);
  }

  /** Bytes the arena holds from the system. */
  get reserved(): number {
    return this.regions.reduce((a, r) => a + r.size, 0);
  }

  /** Bytes of its regions ever written, counted in whole pages. */
  get touchedPages(): number {
    let total = 0;
    for (const r of this.regions) for (const [a, b] of r.touched) total += pageSpan(a, b);
    return total;
  }

  alloc(bytes: number): ArenaBlock {
    const rounded = roundArenaBytes(exactBytes(bytes, "a tensor"));
    let chunk = this.find(rounded);
    if (!chunk) {
      this.extend(rounded);
      chunk = this.find(rounded);
      if (!chunk) throw new Error(`arena: no chunk for ${rounded} bytes after extending`);
    }
    chunk.free = false;
    this.inUse += chunk.size;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    const region = this.regions[chunk.region]!;
    touch(region.touched, chunk.offset, chunk.offset + bytes);
    return { chunk };
  }

  free(block: ArenaBlock): void {
    const chunk = block.chunk as Chunk;
    if (chunk.free) throw new Error("arena: double free");
    chunk.free = true;
    this.inUse -= chunk.size;
    const chunks = this.regions[chunk.region]!.chunks;
    const i = chunks.indexOf(chunk);
    const next = chunks[i + 1];
    if (next?.free) {
      chunk.size += next.size;
      chunks.splice(i + 1, 1);
    }
    const prev = chunks[i - 1];
    if (prev?.free) {
      prev.size += chunk.size;
      chunks.splice(i, 1);
    }
  }

  private find(rounded: number): Chunk | undefined {
    // Best fit: the bins partition sizes, so the smallest adequate free chunk overall is the answer;
    // ties go to the lowest address, as the bins' ordering does. Regions come from mmap, which on Linux
    // places each new mapping below the previous one: a later region has lower addresses (seen in ORT's
    // verbose log: "Allocated memory at ..." descends from one extension to the next).
    let best: Chunk | undefined;
    for (let ri = this.regions.length - 1; ri >= 0; ri--) {
      for (const c of this.regions[ri]!.chunks) {
        if (!c.free || c.size < rounded) continue;
        if (!best || c.size < best.size) best = c;
      }
    }
    if (!best) return undefined;
    if (best.size >= rounded * 2 || best.size - rounded >= this.config.maxDeadBytesPerChunk) {
      const chunks = this.regions[best.region]!.chunks;
      const rest: Chunk = { region: best.region, offset: best.offset + rounded, size: best.size - rounded, free: true };
      best.size = rounded;
      chunks.splice(chunks.indexOf(best) + 1, 0, rest);
    }
    return best;
  }

  private extend(rounded: number): void {
    let grew = false;
    while (rounded > this.nextRegionBytes) {
      this.nextRegionBytes *= 2;
      grew = true;
    }
    const size = this.config.strategy === "sameAsRequested" ? rounded : this.nextRegionBytes;
    const region = this.regions.length;
    this.regions.push({ size, chunks: [{ region, offset: 0, size, free: true }], touched: [] });
    if (!grew && this.config.strategy === "nextPowerOfTwo" && this.nextRegionBytes * 2 < this.config.maxPowerOfTwoExtendBytes) {
      this.nextRegionBytes *= 2;
    }
  }
}

function pageSpan(a: number, b: number): number {
  return (Math.ceil(b / PAGE_BYTES) - Math.floor(a / PAGE_BYTES)) * PAGE_BYTES;
}

/** Adds [a, b) to a sorted list of disjoint ranges, merging overlaps. */
function touch(ranges: [number, number][], a: number, b: number): void {
  if (b <= a) return;
  let lo = a;
  let hi = b;
  const kept: [number, number][] = [];
  for (const r of ranges) {
    if (r[1] < lo || r[0] > hi) kept.push(r);
    else {
      lo = Math.min(lo, r[0]);
      hi = Math.max(hi, r[1]);
    }
  }
  kept.push([lo, hi]);
  kept.sort((x, y) => x[0] - y[0]);
  ranges.length = 0;
  ranges.push(...kept);
}
