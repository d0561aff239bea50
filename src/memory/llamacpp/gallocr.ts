/**
 * ggml's graph allocator replayed over a graph of tensor sizes (ggml-alloc.c): what the scheduler reserves
 * as a backend's compute buffer is the high-water mark of this allocation.
 * - graph inputs (leafs) are allocated first, in leaf order; weights and the KV cache live elsewhere;
 * - nodes are allocated in graph order; an op that can run in place (ggml_op_can_inplace) takes its parent's
 *   memory when it is the parent's last consumer, the parent has no views and the layouts match;
 * - after each node, a parent whose consumers and views are all done is freed (graph outputs never are);
 * - ggml_dyn_tallocr: best fit among the free blocks except the last; else the last block, which grows the
 *   buffer; freed blocks merge with their neighbours. Sizes are padded to the buffer's alignment.
 */

export interface GraphTensor {
  bytes: number;
  srcs: number[];
  /** No op: an input (allocated here) or a weight / cache tensor (allocated elsewhere). */
  leaf?: "input" | "external";
  /** A view of another tensor (reshape, permute, view): no memory of its own. */
  viewOf?: number;
  /** A view starting at its source's first byte (only those can be taken over in place). */
  viewAtZero?: boolean;
  /** ggml_op_can_inplace(op): scale, add, mul, rms_norm, rope, soft_max, unary... */
  inplace?: boolean;
  /** Same layout check (type and shape). */
  layout: string;
  output?: boolean;
}

interface Block {
  offset: number;
  size: number;
}

class DynAllocator {
  blocks: Block[] = [{ offset: 0, size: Number.MAX_SAFE_INTEGER }];
  maxSize = 0;
  constructor(private readonly alignment: number) {}
  private align(n: number): number {
    return Math.ceil(n / this.alignment) * this.alignment;
  }
  alloc(bytes: number): number {
    const size = this.align(bytes);
    let best = -1;
    let bestSize = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < this.blocks.length - 1; i++) {
      const b = this.blocks[i]!;
      if (b.size >= size && b.size <= bestSize) {
        best = i;
        bestSize = b.size;
      }
    }
    if (best === -1) best = this.blocks.length - 1;
    const block = this.blocks[best]!;
    const offset = block.offset;
    block.offset += size;
    block.size -= size;
    if (block.size === 0) this.blocks.splice(best, 1);
    this.maxSize = Math.max(this.maxSize, offset + size);
    return offset;
  }
  free(offset: number, bytes: number): void {
    const size = this.align(bytes);
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (b.offset + b.size === offset) {
        b.size += size;
        const next = this.blocks[i + 1];
        if (next && b.offset + b.size === next.offset) {
          b.size += next.size;
          this.blocks.splice(i + 1, 1);
        }
        return;
      }
      if (offset + size === b.offset) {
        b.offset = offset;
        b.size += size;
        const prev = this.blocks[i - 1];
        if (prev && prev.offset + prev.size === b.offset) {
          prev.size += b.size;
          this.blocks.splice(i, 1);
        }
        return;
      }
    }
    let at = this.blocks.findIndex((b) => b.offset > offset);
    if (at === -1) at = this.blocks.length;
    this.blocks.splice(at, 0, { offset, size });
  }
}

/**
 * The compute buffer of one graph: tensors[] in creation order, `order` the graph's nodes (ggml_visit_parents
 * order) and `leafs` its leaf tensors in visiting order.
 */
export function reserveBytes(tensors: readonly GraphTensor[], order: readonly number[], leafs: readonly number[], alignment: number): number {
  const a = new DynAllocator(alignment);
  const addr = new Map<number, number>();
  const allocated = new Set<number>();
  const children = new Map<number, number>();
  const views = new Map<number, number>();
  const own = (id: number) => tensors[id]!.leaf !== "external" && !(tensors[id]!.viewOf !== undefined && tensors[tensors[id]!.viewOf!]!.leaf === "external");
  const allocate = (id: number) => {
    const t = tensors[id]!;
    if (addr.has(id) || t.viewOf !== undefined || t.leaf === "external") return;
    if (t.inplace) {
      for (const p of t.srcs) {
        const pt = tensors[p]!;
        if (!addr.has(p) && pt.viewOf === undefined) continue;
        if (!own(p) || pt.output || pt.layout !== t.layout) continue;
        if ((children.get(p) ?? 0) !== 1 || (views.get(p) ?? 0) !== 0) continue;
        if (pt.viewOf !== undefined) {
          const src = pt.viewOf;
          if ((views.get(src) ?? 0) === 1 && (children.get(src) ?? 0) === 0 && pt.viewAtZero && allocated.has(src)) {
            addr.set(id, addr.get(src)!);
            allocated.delete(src);
            allocated.add(id);
            return;
          }
          continue;
        }
        if (!allocated.has(p)) continue;
        addr.set(id, addr.get(p)!);
        allocated.delete(p);
        allocated.add(id);
        return;
      }
    }
    addr.set(id, a.alloc(t.bytes));
    allocated.add(id);
  };
  const free = (id: number) => {
    const t = tensors[id]!;
    if (t.output || !allocated.has(id)) return;
    a.free(addr.get(id)!, t.bytes);
    allocated.delete(id);
  };
  for (const l of leafs) if (tensors[l]!.leaf === "input") allocate(l);
  for (const id of order) {
    const t = tensors[id]!;
    if (t.viewOf !== undefined) views.set(t.viewOf, (views.get(t.viewOf) ?? 0) + 1);
    for (const s of t.srcs) children.set(s, (children.get(s) ?? 0) + 1);
  }
  for (const id of order) {
    const t = tensors[id]!;
    for (const s of t.srcs) allocate(s);
    allocate(id);
    for (const p of t.srcs) {
      const left = (children.get(p) ?? 0) - 1;
      children.set(p, left);
      if (left !== 0 || (views.get(p) ?? 0) !== 0) continue;
      const pt = tensors[p]!;
      if (pt.viewOf !== undefined) {
        const src = pt.viewOf;
        const v = (views.get(src) ?? 0) - 1;
        views.set(src, v);
        if (v === 0 && (children.get(src) ?? 0) === 0) free(src);
      } else free(p);
    }
  }
  return a.maxSize;
}
