/**
 * The wasm heap of onnxruntime-web: one WebAssembly.Memory that Emscripten's malloc (dlmalloc, sbrk only:
 * no mmap in wasm) carves up and that only ever grows. Two pure pieces:
 * - a best-fit, coalescing free list over an sbrk top (dlmalloc keeps large free chunks in size-ordered
 *   trees and takes the smallest that fits; neighbours merge on free; a free chunk touching the top is
 *   given back to it). Chunks carry an 8-byte header and 16-byte alignment (wasm32 dlmalloc: MALLOC_ALIGNMENT 16),
 *   and memalign needs room for the alignment besides (alloc's `align`);
 * - Emscripten's emscripten_resize_heap, read from onnxruntime-web 1.30's ort-wasm-simd-threaded.mjs: when
 *   malloc needs a top past the Memory's size, it grows to max(needed, min(size * 1.2, needed + 96 MiB)),
 *   rounded up to a 64 KiB page, capped at 4 GiB - 64 KiB; past the cap, malloc fails (std::bad_alloc).
 */

export const WASM_PAGE = 65536;
/** Memory({ initial: 256 }) in ort-wasm-simd-threaded.mjs. */
export const INITIAL_HEAP = 256 * WASM_PAGE;
/** emscripten_resize_heap's cap: 4 GiB minus one page (a wasm32 Memory of 65536 pages cannot be addressed whole). */
export const WASM32_MAX_HEAP = 65536 * WASM_PAGE - WASM_PAGE;
/** MEMORY_GROWTH_GEOMETRIC_STEP 0.2 and the overgrowth cap of 96 MiB (Emscripten's defaults, as compiled in). */
const GROWTH_STEP = 0.2;
const OVERGROWTH_CAP = 96 * 1024 * 1024;
const HEADER = 8;
const ALIGN = 16;
const MIN_SPLIT = 32;

interface Chunk {
  addr: number;
  size: number;
}

export class WasmHeap {
  /** The Memory's byteLength: what buffer.byteLength reads. */
  size = INITIAL_HEAP;
  /** The highest top malloc asked for (may pass the cap: then the run fails). */
  peakTop: number;
  private top: number;
  private free: Chunk[] = [];
  private live = new Map<number, Chunk>();
  private next = 0;

  /** `base`: what the module holds before the model (static data, stack, ORT's environment). */
  constructor(base: number) {
    this.top = base;
    this.peakTop = base;
  }

  /**
   * `align` > 16 is memalign (ORT's CPU allocator asks for 64-byte alignment): dlmalloc's internal_memalign
   * asks for bytes + align + a minimum chunk, then gives the unused lead and tail back, so a free chunk must be
   * that much larger than the request to be used, and a hole left by a tensor of the same size is not.
   */
  alloc(bytes: number, align = ALIGN): number {
    let n = Math.ceil((bytes + HEADER) / ALIGN) * ALIGN;
    const need = align > ALIGN ? n + align + MIN_SPLIT : n;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size >= need && (best < 0 || f.size < this.free[best]!.size)) best = i;
    }
    let addr: number;
    if (best >= 0) {
      const f = this.free[best]!;
      addr = f.addr;
      if (f.size - n >= MIN_SPLIT) {
        f.addr += n;
        f.size -= n;
      } else {
        n = f.size;
        this.free.splice(best, 1);
      }
    } else {
      const last = this.free.findIndex((f) => f.addr + f.size === this.top);
      if (last >= 0) {
        addr = this.free[last]!.addr;
        this.free.splice(last, 1);
      } else addr = this.top;
      this.top = addr + n;
      this.peakTop = Math.max(this.peakTop, this.top);
      if (this.top > this.size) this.size = grownSize(this.size, this.top);
    }
    const id = ++this.next;
    this.live.set(id, { addr, size: n });
    return id;
  }

  release(id: number | undefined): void {
    const c = id === undefined ? undefined : this.live.get(id);
    if (!c || id === undefined) return;
    this.live.delete(id);
    let merged: Chunk = { ...c };
    for (let i = this.free.length - 1; i >= 0; i--) {
      const g = this.free[i]!;
      if (g.addr + g.size === merged.addr) merged = { addr: g.addr, size: g.size + merged.size };
      else if (merged.addr + merged.size === g.addr) merged = { addr: merged.addr, size: merged.size + g.size };
      else continue;
      this.free.splice(i, 1);
    }
    if (merged.addr + merged.size === this.top) this.top = merged.addr;
    else this.free.push(merged);
  }
}

/** emscripten_resize_heap: the Memory's next size when malloc needs `needed` bytes (capped; see above). */
export function grownSize(size: number, needed: number): number {
  const over = Math.min(size * (1 + GROWTH_STEP), needed + OVERGROWTH_CAP);
  return Math.min(WASM32_MAX_HEAP, WASM_PAGE * Math.ceil(Math.max(needed, over) / WASM_PAGE));
}
