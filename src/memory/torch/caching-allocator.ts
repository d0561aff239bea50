/**
 * A simulation of PyTorch's CUDA caching allocator (c10/cuda/CUDACachingAllocator.cpp, default settings:
 * no expandable segments, unlimited max_split_size, one stream). It answers what torch.cuda reports:
 * memory_allocated / max_memory_allocated (sizes of live blocks, after rounding and unsplit remainders)
 * and memory_reserved / max_memory_reserved (the segments obtained from cudaMalloc).
 */
import { exactBytes } from "../exact-size.js";

/** Every request is rounded up to a multiple of this (kMinBlockSize). */
export const MIN_BLOCK_SIZE = 512;
/** Requests up to this size come from the small pool (kSmallSize). */
export const SMALL_SIZE = 1 << 20;
/** Small-pool segments are this big (kSmallBuffer). */
export const SMALL_BUFFER = 2 << 20;
/** Large requests under kMinLargeAlloc get a segment of kLargeBuffer... */
export const MIN_LARGE_ALLOC = 10 << 20;
export const LARGE_BUFFER = 20 << 20;
/** ...larger ones a segment rounded up to kRoundLarge. */
export const ROUND_LARGE = 2 << 20;

export function roundSize(bytes: number): number {
  if (bytes < MIN_BLOCK_SIZE) return MIN_BLOCK_SIZE;
  return Math.ceil(bytes / MIN_BLOCK_SIZE) * MIN_BLOCK_SIZE;
}

/** The cudaMalloc size for a rounded request that no cached block can serve. */
export function segmentSize(rounded: number): number {
  if (rounded <= SMALL_SIZE) return SMALL_BUFFER;
  if (rounded < MIN_LARGE_ALLOC) return LARGE_BUFFER;
  return Math.ceil(rounded / ROUND_LARGE) * ROUND_LARGE;
}

export type PoolKind = "small" | "large";

interface Block {
  addr: number;
  size: number;
  free: boolean;
  pool: PoolKind;
  prev: Block | undefined;
  next: Block | undefined;
  segment: number;
}

export interface AllocatorStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
  peakReserved: number;
  segments: number;
  /** cudaMalloc calls that found the device full and had to free cached segments first. */
  retries: number;
  /** Requests served so far (torch's `allocation.all.allocated`). */
  allocations: number;
  /** Most segments held at once since the last peak reset (`segment.all.peak`). */
  peakSegments: number;
  /** The same counters per pool (`allocated_bytes.small_pool.peak`, `reserved_bytes.large_pool.peak`, ...). */
  pools: Record<PoolKind, PoolStats>;
}

export interface PoolStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
  peakReserved: number;
}

/** Free blocks of one pool ordered by (size, address): the order the best-fit search walks. */
class FreeList {
  private blocks: Block[] = [];
  private static less(a: Block, b: Block): boolean {
    return a.size < b.size || (a.size === b.size && a.addr < b.addr);
  }
  private lowerBound(size: number, addr: number): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = this.blocks[mid]!;
      if (b.size < size || (b.size === size && b.addr < addr)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  insert(b: Block): void {
    this.blocks.splice(this.lowerBound(b.size, b.addr), 0, b);
  }
  remove(b: Block): void {
    const i = this.lowerBound(b.size, b.addr);
    if (this.blocks[i] !== b) throw new Error("caching allocator: free list out of order");
    this.blocks.splice(i, 1);
  }
  /** The smallest free block that holds `size` bytes (lowest address among equals). */
  bestFit(size: number): Block | undefined {
    return this.blocks[this.lowerBound(size, -1)];
  }
  /** Whole free segments (no neighbours), the ones release_cached_blocks can return to the driver. */
  wholeSegments(): Block[] {
    return this.blocks.filter((b) => b.prev === undefined && b.next === undefined);
  }
  get size(): number {
    return this.blocks.length;
  }
  static sorted(a: Block, b: Block): number {
    return FreeList.less(a, b) ? -1 : FreeList.less(b, a) ? 1 : 0;
  }
}

export class CachingAllocator {
  private readonly pools = { small: new FreeList(), large: new FreeList() };
  private readonly live = new Map<number, Block>();
  private nextAddr = 0;
  private nextSegment = 0;
  private stats: AllocatorStats = {
    allocated: 0,
    reserved: 0,
    peakAllocated: 0,
    peakReserved: 0,
    segments: 0,
    retries: 0,
    allocations: 0,
    peakSegments: 0,
    pools: { small: emptyPoolStats(), large: emptyPoolStats() },
  };

  /** @param capacity bytes cudaMalloc may hand out in all (the device's free memory); Infinity by default. */
  constructor(private readonly capacity = Number.POSITIVE_INFINITY) {}

  /** Allocates `bytes` and returns the block's address (the handle for free). Throws when the device is full. */
  malloc(bytes: number): number {
    const size = roundSize(exactBytes(bytes, "a tensor"));
    const pool: PoolKind = size <= SMALL_SIZE ? "small" : "large";
    const list = this.pools[pool];
    let block = list.bestFit(size);
    if (block) list.remove(block);
    else block = this.newSegment(size, pool);
    const remaining = block.size - size;
    const split = pool === "small" ? remaining >= MIN_BLOCK_SIZE : remaining > SMALL_SIZE;
    if (split) {
      const rest: Block = { addr: block.addr + size, size: remaining, free: true, pool, prev: block, next: block.next, segment: block.segment };
      if (block.next) block.next.prev = rest;
      block.next = rest;
      block.size = size;
      list.insert(rest);
    }
    block.free = false;
    this.live.set(block.addr, block);
    this.stats.allocated += block.size;
    this.stats.peakAllocated = Math.max(this.stats.peakAllocated, this.stats.allocated);
    this.stats.allocations++;
    const ps = this.stats.pools[pool];
    ps.allocated += block.size;
    ps.peakAllocated = Math.max(ps.peakAllocated, ps.allocated);
    return block.addr;
  }

  free(addr: number): void {
    const block = this.live.get(addr);
    if (!block) throw new Error(`caching allocator: free of unknown address ${addr}`);
    this.live.delete(addr);
    this.stats.allocated -= block.size;
    this.stats.pools[block.pool].allocated -= block.size;
    block.free = true;
    const list = this.pools[block.pool];
    let merged = block;
    const prev = block.prev;
    if (prev && prev.free) {
      list.remove(prev);
      absorbNext(prev);
      merged = prev;
    }
    const next = merged.next;
    if (next && next.free) {
      list.remove(next);
      absorbNext(merged);
    }
    list.insert(merged);
  }

  /** Size of the live block at `addr` (the request rounded, plus any remainder too small to split off). */
  blockSize(addr: number): number | undefined {
    return this.live.get(addr)?.size;
  }

  /** torch.cuda.empty_cache(): return every whole free segment to the driver. */
  emptyCache(): void {
    for (const kind of ["small", "large"] as const) {
      for (const b of this.pools[kind].wholeSegments()) {
        this.pools[kind].remove(b);
        this.stats.reserved -= b.size;
        this.stats.pools[kind].reserved -= b.size;
        this.stats.segments--;
      }
    }
  }

  /** torch.cuda.reset_peak_memory_stats(). */
  resetPeaks(): void {
    this.stats.peakAllocated = this.stats.allocated;
    this.stats.peakReserved = this.stats.reserved;
    this.stats.peakSegments = this.stats.segments;
    for (const p of Object.values(this.stats.pools)) {
      p.peakAllocated = p.allocated;
      p.peakReserved = p.reserved;
    }
  }

  snapshot(): AllocatorStats {
    return { ...this.stats, pools: { small: { ...this.stats.pools.small }, large: { ...this.stats.pools.large } } };
  }

  private newSegment(size: number, pool: PoolKind): Block {
    const bytes = segmentSize(size);
    if (this.stats.reserved + bytes > this.capacity) {
      // The allocator frees cached, unused segments and retries before it reports out of memory.
      this.stats.retries++;
      this.emptyCache();
      if (this.stats.reserved + bytes > this.capacity) {
        throw new OutOfMemory(bytes, this.stats.reserved, this.capacity);
      }
    }
    const seg: Block = { addr: this.nextAddr, size: bytes, free: true, pool, prev: undefined, next: undefined, segment: this.nextSegment++ };
    // Segments never touch, so blocks of different segments never merge.
    this.nextAddr += bytes + ROUND_LARGE;
    this.stats.reserved += bytes;
    this.stats.segments++;
    this.stats.peakReserved = Math.max(this.stats.peakReserved, this.stats.reserved);
    this.stats.peakSegments = Math.max(this.stats.peakSegments, this.stats.segments);
    const ps = this.stats.pools[pool];
    ps.reserved += bytes;
    ps.peakReserved = Math.max(ps.peakReserved, ps.reserved);
    return seg;
  }
}

function emptyPoolStats(): PoolStats {
  return { allocated: 0, reserved: 0, peakAllocated: 0, peakReserved: 0 };
}

/** Merges a block's (free) successor into it: one block over both address ranges. */
function absorbNext(block: Block): void {
  const next = block.next!;
  block.size += next.size;
  block.next = next.next;
  if (next.next) next.next.prev = block;
}

export class OutOfMemory extends Error {
  constructor(readonly request: number, readonly reserved: number, readonly capacity: number) {
    super(`CUDA out of memory: a ${request}-byte segment does not fit (${reserved} of ${capacity} bytes reserved)`);
  }
}
