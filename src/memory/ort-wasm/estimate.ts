/**
 * The `ort-wasm` runtime profile: onnxruntime-web's CPU backend (the CPU execution provider compiled to
 * WebAssembly, ort-wasm-simd-threaded.wasm) with onnxruntime-web's defaults. Memory is the wasm heap, the one
 * WebAssembly.Memory the module owns (heap.ts): it only grows, so its size after a step is its high-water mark.
 *
 * Same as ort-cpu (src/memory/ort/): the graph ORT runs (folding, fusions, execution order) and its
 * allocation planner (buffer reuse), MLAS packing constant Gemm/MatMul weights at load.
 * Different in the wasm build, read from onnxruntime-web 1.30 (lib/wasm/session-options.ts as shipped in
 * dist/ort.node.min.mjs, and the Emscripten glue):
 * - no BFC arena and no memory pattern: the session options pass `!!enableCpuMemArena` and `!!enableMemPattern`,
 *   both false unless the page sets them, so every buffer is a malloc/free on the heap;
 * - no NCHWc layout: MLAS has no NCHWc kernels for wasm (MlasNchwcGetBlockSize() is 1), so Conv weights are not
 *   reordered;
 * - the model file is copied into the heap before the session is created (and freed after), and every weight
 *   is copied in too: external data comes from `externalData` (JS memory) into a heap buffer per initializer,
 *   nothing is memory-mapped;
 * - numThreads 1 here (ort.env.wasm.numThreads; threads would add a stack each), SIMD on (the only build shipped);
 * - the heap grows in steps of 20% (at least the request), up to 4 GiB - 64 KiB: wasm32, no memory64 build in 1.30;
 * - every ORT buffer is 64-byte aligned (memalign), so a freed weight's hole does not take a packed copy of the
 *   same size: measured with the probe (bench/groundtruth/ort-web1.30.0-wasm-probe-*.json), vit_b_16's packed MatMul
 *   weights add 97 MiB to the heap, where a heap that reused every freed weight would add 16.
 */
import type { Model, Tensor } from "../../graph/ir.js";
import type { MemoryInput, MemoryResult, RuntimeProfile } from "../profile.js";
import type { TimelinePoint } from "../../contract/report.js";
import { RUNTIME_SPECS } from "../runtime-table.js";
import { buildOrtGraph, type OrtGraph } from "../ort/graph.js";
import { planAllocations, type AllocationPlan } from "../ort/planner.js";
import { byteSize } from "../../graph/dtype.js";
import { evaluate } from "../../sym/expr.js";
import { WasmHeap, WASM32_MAX_HEAP } from "./heap.js";
import { fuseConvAdd } from "./conv-add.js";
import { elementCount } from "../../graph/element-count.js";

const MIB = 1 << 20;

/**
 * What a session holds besides its weights: the module's static data and 5 MiB stack (its stack pointer starts at
 * 6,303,872 in ort-wasm-simd-threaded.wasm 1.30), ORT's environment, graph and kernels. Measured as the heap's
 * footprint after session creation minus the weights, with prepacking disabled so nothing else is added
 * (bench/groundtruth/ort-web1.30.0-wasm-probe-*.json): 9.7-11.6 MiB for the 7 CNN fixtures, more for large
 * graphs (vit_b_16 12.2, bert-base 13.3, gpt2 16.1 MiB, not modelled).
 */
export const WASM_SESSION_BASE = 10 * MIB;

/** MLAS_SGEMM_STRIDEN_THREAD_ALIGN: MlasGemmPackBSize pads N to 16 columns (sgemm.cpp). */
const PACK_N_ALIGN = 16;
/** ORT's CPU allocator aligns every buffer to MlasGetPreferredBufferAlignment(), 64 bytes (memalign in dlmalloc). */
const ORT_ALIGN = 64;
const PACKED_OPS = /^(Gemm|MatMul|ms\.FusedGemm|ms\.FusedMatMul)$/;

export interface WasmHeapEstimate {
  graph: OrtGraph;
  afterLoad: number;
  afterRun1: number;
  afterRun2: number;
  /** The highest heap top malloc asked for: above WASM32_MAX_HEAP the session or the run fails. */
  needed: number;
  /** The heap top's high-water mark once the session is created. */
  loadPeak: number;
  packedBytes: number;
  activationPeak: number;
  inputs: number;
  outputs: number;
  liveAfterNode: number[];
  peakNode: number;
}

export function estimateWasmHeap(input: MemoryInput): WasmHeapEstimate {
  const { model, inference, bindings } = input;
  const graph = buildOrtGraph(model, inference, bindings, { nchwcBlock: 0 });
  graph.nodes = fuseConvAdd(graph);
  const constBytes = (name: string): number => {
    const t = model.graph.initializers.get(name);
    if (t) return t.bytes;
    const v = inference.values.get(name);
    if (!v?.shape || !v.dtype) return 0;
    const dims = v.shape.map((d) => evaluate(d, bindings));
    return dims.every((d): d is number => typeof d === "number") ? byteSize(v.dtype, elementCount(dims)) : 0;
  };
  const plan = planAllocations(graph);
  const bytesOf = (names: readonly string[]) => names.reduce((a, n) => a + (graph.tensors.get(n)?.bytes ?? 0), 0);
  const inputs = bytesOf(graph.inputs);
  const outputs = bytesOf(graph.outputs);
  const liveAfterNode = new Array<number>(graph.nodes.length).fill(0);
  let activationPeak = 0;
  let peakNode = 0;
  let live = 0;
  const sizes = new Map<number, number>();
  for (const e of plan.events) {
    if (e.kind === "alloc") sizes.set(e.id, e.bytes);
    live += e.kind === "alloc" ? e.bytes : -(sizes.get(e.id) ?? 0);
    if (live > activationPeak) {
      activationPeak = live;
      peakNode = e.node;
    }
    liveAfterNode[e.node] = live;
  }
  // ORT saves initializers in an absl hash map's order (session_state_utils.cc SaveInitializedTensors), which the
  // file does not tell; where the heap's 20% growth steps fall depends on it. So the session is replayed with
  // the file's order and HEAP_ORDERS - 1 fixed pseudo-random permutations of it, and each size is their median.
  const initializers = [...model.graph.initializers.values()];
  const sims = Array.from({ length: HEAP_ORDERS }, (_, k) => simulate(k === 0 ? initializers : permuted(initializers, k), graph, plan, model, constBytes));
  const median = (pick: (r: Simulated) => number) => {
    const xs = sims.map(pick).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  return {
    graph,
    afterLoad: median((r) => r.afterLoad),
    afterRun1: median((r) => r.afterRun1),
    afterRun2: median((r) => r.afterRun2),
    needed: median((r) => r.needed),
    loadPeak: median((r) => r.loadPeak),
    packedBytes: sims[0]!.packedBytes,
    activationPeak,
    inputs,
    outputs,
    liveAfterNode,
    peakNode,
  };
}

/** Initializer orders replayed (the file's and fixed permutations): ORT's own order is a hash map's. */
const HEAP_ORDERS = 9;

interface Simulated {
  afterLoad: number;
  afterRun1: number;
  afterRun2: number;
  needed: number;
  loadPeak: number;
  packedBytes: number;
}

/** One session on the heap: load with the initializers in `order`, then two runs of the planned buffers. */
function simulate(order: readonly Tensor[], graph: OrtGraph, plan: AllocationPlan, model: Model, constBytes: (n: string) => number): Simulated {
  const heap = new WasmHeap(WASM_SESSION_BASE);
  const fileCopy = heap.alloc(modelFileBytes(model));
  const held = new Map<string, number>();
  for (const t of order) held.set(t.name, heap.alloc(t.bytes, ORT_ALIGN));
  const packedBytes = prepack(graph, model, heap, held, constBytes);
  heap.release(fileCopy);
  const afterLoad = heap.size;
  const loadPeak = heap.peakTop;
  const run = () => {
    // The JS side mallocs each input tensor, copies the data in, and frees it with the outputs after the run.
    const feeds = graph.inputs.map((n) => heap.alloc(graph.tensors.get(n)?.bytes ?? 0));
    const ids = new Map<number, number>();
    for (const e of plan.events) {
      if (e.kind === "alloc") {
        if (e.bytes > 0) ids.set(e.id, heap.alloc(e.bytes, ORT_ALIGN));
      } else if (ids.has(e.id)) {
        heap.release(ids.get(e.id));
        ids.delete(e.id);
      }
    }
    for (const id of ids.values()) heap.release(id);
    feeds.forEach((id) => heap.release(id));
  };
  run();
  const afterRun1 = heap.size;
  run();
  return { afterLoad, afterRun1, afterRun2: heap.size, needed: heap.peakTop, loadPeak, packedBytes };
}

/** A fixed pseudo-random permutation (xorshift32 seeded with k, Fisher-Yates). */
function permuted<T>(xs: readonly T[], k: number): T[] {
  const out = [...xs];
  let s = (0x9e3779b9 * k) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The model file's size: embedded tensors know their file; a graph with external weights only is small. */
function modelFileBytes(model: Model): number {
  for (const t of model.graph.initializers.values()) if (t.data.kind === "embedded") return t.source.size;
  return 0;
}

/**
 * MLAS packs a constant fp32 B of Gemm/MatMul while the session is created (kernels prepared in node order,
 * ORT's fused nodes after the others: as in ort-cpu's prepackingPeakExcess). A B that constant folding made
 * (gpt2's tied lm_head: Transpose(wte)) is computed into a heap buffer first. The original is freed once
 * packed when packing kernels are its only readers (a Gather of the same table keeps it).
 */
function prepack(graph: OrtGraph, model: Model, heap: WasmHeap, held: Map<string, number>, constBytes: (n: string) => number): number {
  const readers = new Map<string, { op: string; index: number }[]>();
  for (const n of graph.nodes) n.inputs.forEach((x, index) => x !== "" && readers.set(x, [...(readers.get(x) ?? []), { op: n.op, index }]));
  const packs = (r: { op: string; index: number }) => PACKED_OPS.test(r.op) && r.index === 1;
  const order = [...graph.nodes.filter((n) => !n.op.startsWith("ms.")), ...graph.nodes.filter((n) => n.op.startsWith("ms."))];
  let total = 0;
  for (const n of order) {
    const b = n.inputs[1];
    if (!PACKED_OPS.test(n.op) || !b || !graph.constants.has(b)) continue;
    const t = model.graph.initializers.get(b);
    if (t && t.dtype !== "float32") continue;
    if (!held.has(b)) held.set(b, heap.alloc(constBytes(b), ORT_ALIGN));
    const bytes = packedSize(n, b, graph, model, constBytes(b));
    heap.alloc(bytes, ORT_ALIGN);
    total += bytes;
    if ((readers.get(b) ?? []).every(packs)) heap.release(held.get(b));
  }
  return total;
}

/** MlasGemmPackBSize: N padded to 16 columns times K floats (B is [K, N], or [N, K] with transB). */
function packedSize(node: OrtGraph["nodes"][number], b: string, graph: OrtGraph, model: Model, bytes: number): number {
  const dims = model.graph.initializers.get(b)?.dims ?? graph.tensors.get(b)?.shape;
  if (!dims || dims.length !== 2) return bytes;
  const transB = node.attrs["transB"];
  const trans = transB?.type === "int" && transB.value === 1;
  const [k, nCols] = trans ? [dims[1]!, dims[0]!] : [dims[0]!, dims[1]!];
  return Math.ceil(nCols / PACK_N_ALIGN) * PACK_N_ALIGN * k * 4;
}

export const WASM32_HEAP_LIMIT = { name: "wasm32 heap", bytes: WASM32_MAX_HEAP };

export const ortWasmProfile: RuntimeProfile = {
  ...RUNTIME_SPECS["ort-wasm"],
  estimate(input: MemoryInput): MemoryResult {
    const warnings: string[] = [];
    const e = estimateWasmHeap(input);
    warnings.push(...e.graph.warnings.map((w) => w.replace(/^ort-cpu:/, "ort-wasm:")));
    const fits = e.needed <= WASM32_MAX_HEAP;
    if (!fits) warnings.push(`ort-wasm: does not fit the wasm32 heap: needs ${e.needed} bytes, ${e.needed - WASM32_MAX_HEAP} over its ${WASM32_MAX_HEAP}-byte limit (onnxruntime-web fails with std::bad_alloc)`);
    const peak = e.graph.nodes[e.peakNode];
    const timeline: TimelinePoint[] = e.graph.nodes.map((n, i) => ({ layer: n.name || n.op, liveBytes: e.liveAfterNode[i] ?? 0 }));
    return {
      memory: {
        weights: e.graph.constantBytes,
        inputs: e.inputs,
        outputs: e.outputs,
        activationPeak: e.activationPeak,
        workspace: 0,
        peakAllocated: e.needed,
        peakReserved: e.afterRun2,
        runtimeOverhead: WASM_SESSION_BASE,
        total: e.afterRun2,
        peakAt: { layer: peak ? peak.name || peak.op : "", live: [] },
        perBatch: { formula: "heap simulation per batch (the wasm heap grows in 20% steps): run analyze at each batch" },
        afterLoad: e.afterLoad,
        loadPeak: e.loadPeak,
        afterRun1: e.afterRun1,
        afterRun2: e.afterRun2,
        packedWeights: e.packedBytes,
        limit: { name: WASM32_HEAP_LIMIT.name, bytes: WASM32_HEAP_LIMIT.bytes, fits, overBy: Math.max(0, e.needed - WASM32_MAX_HEAP) },
        assumptions: [
          "onnxruntime-web 1.30 wasm backend defaults: ORT_ENABLE_ALL, no CPU arena, no memory pattern, numThreads 1, SIMD",
          "the heap is WebAssembly.Memory's byteLength: Emscripten dlmalloc, grown by 20% steps (at least the request), never shrunk",
          `ORT's initializer order (a hash map's) is unknown: each size is the median over ${HEAP_ORDERS} replayed orders`,
          "wasm32: 4 GiB - 64 KiB at most (onnxruntime-web 1.30 ships no memory64 build)",
          "differs from ort-cpu: no NCHWc (MLAS has no NCHWc kernels for wasm), weights and the model file copied into the heap, not memory-mapped",
        ],
      },
      timeline,
      warnings,
    };
  },
};
