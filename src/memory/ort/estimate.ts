/**
 * The `ort-cpu` runtime profile: ONNX Runtime's CPU execution provider with its defaults (ORT_ENABLE_ALL,
 * BFC arena, memory pattern, sequential execution), as onnxruntime-node runs it. Memory is process RSS:
 * - after load: the runtime itself, the weights, and the NCHWc transformer's blocked copies of Conv weights;
 * - afterRun1: the arena pages the first run writes (planned buffers allocated as nodes execute);
 * - afterRun2: plus the memory pattern's block, which the second run asks the arena for in one piece;
 * - both never below the load-time peak already in the process's peak RSS (a big Gemm/MatMul weight is
 *   held twice while MLAS packs it: the peak RSS keeps that).
 * Pure and synchronous: everything comes from the graph and the settings.
 */
import type { Model } from "../../graph/ir.js";
import type { MemoryInput, MemoryResult, RuntimeProfile } from "../profile.js";
import type { TimelinePoint } from "../../contract/report.js";
import { RUNTIME_SPECS } from "../runtime-table.js";
import { buildOrtGraph, type OrtGraph } from "./graph.js";
import { planAllocations } from "./planner.js";
import { PAGE_BYTES } from "./arena.js";
import { simulateRuns, type SessionRuns } from "./session.js";
import { ORT_CPU_TRAITS, type OrtCpuTraits } from "./cpu-traits.js";
import { hostCpu, type CpuIsa } from "../cpu.js";
import { graphWeights } from "../../graph/weights.js";

/**
 * The session base (ORT_CPU_TRAITS[isa].sessionBaseBytes, cpu-traits.ts): RSS an onnxruntime-node process
 * gains by creating a session of a model with no weights: the shared library's pages, the environment,
 * two intra-op threads; onnxruntime-node 1.30, node 20.
 */

/**
 * RSS the first run adds outside the arena whatever the model: the intra-op threads' first work (stacks,
 * thread-local MLAS buffers). Measured: 0.7-0.8 MiB over the arena's pages on workloads whose arena use
 * is tiny or exactly simulated (fashion-mobilenetv2 batch 1: arena 0.1 MiB, growth 0.8 MiB; mobilenet_v2
 * and densenet121 batch 1: +0.8 and +0.7 MiB over the arena). The second run adds none.
 */
export const FIRST_RUN_FIXED_BYTES = 768 * 1024;

/**
 * onnxruntime-node hands each output to JavaScript as a new buffer of its own (a calloc of the output's
 * size, written in full by the copy), so a run's outputs are in RSS twice: in the arena and in the
 * caller's typed arrays. The caller still holds the first run's outputs while the second run makes its
 * own, so run 2 holds two sets. Measured: an LD_PRELOAD trace of ch_PP-OCRv4_rec at 8x3x48x320 shows one
 * calloc of 8,480,000 B (its [8,40,6625] float output) per run and nothing else outside the arena's regions
 * and their chunk-handle arrays.
 */
export function outputCopyBytes(graph: OrtGraph): number {
  let total = 0;
  for (const o of graph.outputs) total += Math.ceil((graph.tensors.get(o)?.bytes ?? 0) / PAGE_BYTES) * PAGE_BYTES;
  return total;
}

export interface OrtCpuEstimate {
  isa: CpuIsa;
  traits: OrtCpuTraits;
  graph: OrtGraph;
  runs: SessionRuns;
  inputs: number;
  outputs: number;
  /** RSS growth from creating the session. */
  loaded: number;
  /** Peak RSS growth while creating it. */
  loadPeak: number;
  afterRun1: number;
  afterRun2: number;
  /** Weights stored inside the .onnx: the parsed model's copy, part of `loaded`. */
  embeddedWeights: number;
  /** Mapped external weights first read by run 1: resident after it, not at load. */
  mappedFirstRead: number;
}

/** The CPU the settings name, else this machine's. */
export function settingsIsa(input: MemoryInput): CpuIsa {
  return input.settings.cpu ?? hostCpu().isa;
}

export function estimateOrtCpu(input: MemoryInput): OrtCpuEstimate {
  const isa = settingsIsa(input);
  const traits = ORT_CPU_TRAITS[isa];
  const graph = buildOrtGraph(input.model, input.inference, input.bindings, { nchwcBlock: traits.nchwcBlock });
  const plan = planAllocations(graph);
  const runs = simulateRuns(plan, graph.nodes.length);
  const bytesOf = (names: readonly string[]) => names.reduce((a, n) => a + (graph.tensors.get(n)?.bytes ?? 0), 0);
  const inputs = bytesOf(graph.inputs);
  const outputs = bytesOf(graph.outputs);
  // Measured (ort-cpu-memory.json, rss_created): the process keeps the file's Conv weights besides the
  // blocked copies the NCHWc transformer made of them, so Conv weights count about twice after load.
  // Weights stored inside the .onnx file arrive with the parsed model: that copy stays in the heap too
  // (fashion-mobilenetv2, 8.9 MB embedded: created 56 MiB; external-data models have no such copy).
  let embedded = 0;
  for (const w of graphWeights(input.model.graph)) if (w.tensor?.data.kind !== "external") embedded += w.bytes;
  // Weights read straight from the mapped data file are not resident until the first run reads them.
  const lazy = firstReadMappedBytes(input.model, graph);
  const loaded = traits.sessionBaseBytes + graph.constantBytes + graph.reorderedWeightBytes + embedded - lazy;
  const loadPeak = loaded + prepackingPeakExcess(input.model, graph);
  // maxrss after a run minus RSS with the input in place: the load peak shows through when it is higher.
  const fromLoad = Math.max(0, loadPeak - loaded - inputs);
  const copies = outputCopyBytes(graph);
  return {
    isa,
    traits,
    graph,
    runs,
    inputs,
    outputs,
    loaded,
    loadPeak,
    afterRun1: Math.max(runs.run1Touched + FIRST_RUN_FIXED_BYTES + lazy + copies, fromLoad),
    afterRun2: Math.max(runs.run2Touched + FIRST_RUN_FIXED_BYTES + lazy + 2 * copies, fromLoad),
    embeddedWeights: embedded,
    mappedFirstRead: lazy,
  };
}

/** Inputs a kernel copies while the session is created, so it never reads the file's bytes at run time:
 *  MLAS packs a constant B of (Fused)MatMul/(Fused)Gemm, the NCHWc transformer writes blocked Conv weights. */
const COPIED_AT_LOAD: Record<string, number[]> = {
  MatMul: [1], Gemm: [1], "ms.FusedMatMul": [1], "ms.FusedGemm": [1], "nchwc.Conv": [1],
};

/**
 * Bytes of the external data file that the first run pages in: ORT on CPU memory-maps external
 * initializers (tensorprotoutils.cc; the mapping shows as the data file in /proc/self/smaps) and a page
 * becomes resident when a kernel first reads it. Initializers a kernel copies at load were read then;
 * the others (vit_b_16's 0.58 MiB position embedding, biases, LayerNorm scales) come in during run 1.
 * Measured (smaps of the data file's mappings before and after run 1, ORT 1.30): vit_b_16 +0.8 MiB
 * (modelled 0.82), resnet50 +0.02 MiB (only 5 small mappings survive its load; modelled 0.03).
 */
export function firstReadMappedBytes(model: Model, graph: OrtGraph): number {
  const pages = new Map<string, Set<number>>();
  for (const n of graph.nodes) {
    n.inputs.forEach((x, i) => {
      const t = x === "" || (COPIED_AT_LOAD[n.op] ?? []).includes(i) ? undefined : model.graph.initializers.get(x);
      if (t?.data.kind !== "external") return;
      const set = pages.get(t.data.location) ?? new Set<number>();
      const end = t.data.offset + (t.data.length ?? t.bytes);
      for (let p = Math.floor(t.data.offset / PAGE_BYTES); p < Math.ceil(end / PAGE_BYTES); p++) set.add(p);
      pages.set(t.data.location, set);
    });
  }
  let total = 0;
  for (const set of pages.values()) total += set.size * PAGE_BYTES;
  return total;
}

/**
 * How far the load peak rises above the loaded session while MLAS packs constant Gemm/MatMul B operands.
 * Measured (ORT verbose log + maxrss, vgg16): each packed copy is reserved as the kernel is prepared, the
 * original is mapped from the external data file while it is packed and unmapped after, so the peak
 * comes while packing weight k: packed(1..k) + original(k), against packed(all) once loaded, i.e.
 * original(k) minus what is packed after it. Kernels are prepared in node order, and ORT's fused nodes
 * (FusedGemm, FusedMatMul) are new nodes, numbered after the original ones. vgg16: fc3, fc1, fc2 packed in
 * that order gives 392 - 64 = 328 MiB (measured 327.9).
 */
function prepackingPeakExcess(model: Model, graph: OrtGraph): number {
  const sizes: { fused: boolean; bytes: number }[] = [];
  for (const n of graph.nodes) {
    if (!/^(Gemm|MatMul|ms\.FusedGemm|ms\.FusedMatMul)$/.test(n.op)) continue;
    const b = n.inputs[1];
    const t = b ? model.graph.initializers.get(b) : undefined;
    if (t) sizes.push({ fused: n.op.startsWith("ms."), bytes: t.bytes });
  }
  const order = [...sizes.filter((s) => !s.fused), ...sizes.filter((s) => s.fused)].map((s) => s.bytes);
  let after = 0;
  let excess = 0;
  for (let k = order.length - 1; k >= 0; k--) {
    excess = Math.max(excess, order[k]! - after);
    after += order[k]!;
  }
  return excess;
}

/** Tensors that exist while node `at` runs (produced by then, read at or after it), largest first. */
function liveAt(graph: OrtGraph, at: number): string[] {
  const produced = new Map<string, number>();
  const lastRead = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    n.outputs.forEach((o) => o !== "" && produced.set(o, i));
    n.inputs.forEach((x) => x !== "" && lastRead.set(x, i));
  });
  const outputs = new Set(graph.outputs);
  const live: { name: string; bytes: number }[] = [];
  for (const [name, p] of produced) {
    const end = outputs.has(name) ? Infinity : (lastRead.get(name) ?? p);
    if (p <= at && end >= at) live.push({ name, bytes: graph.tensors.get(name)?.bytes ?? 0 });
  }
  return live.sort((a, b) => b.bytes - a.bytes).map((t) => t.name);
}

export const ortCpuProfile: RuntimeProfile = {
  ...RUNTIME_SPECS["ort-cpu"],
  estimate(input: MemoryInput): MemoryResult {
    const warnings: string[] = [];
    const e = estimateOrtCpu(input);
    warnings.push(...e.graph.warnings);
    const peakNode = e.graph.nodes[e.runs.peakNode];
    const timeline: TimelinePoint[] = e.graph.nodes.map((n, i) => ({ layer: n.name || n.op, liveBytes: e.runs.liveAfterNode[i] ?? 0 }));
    return {
      memory: {
        weights: e.graph.constantBytes,
        inputs: e.inputs,
        outputs: e.outputs,
        activationPeak: e.runs.run1PeakLive,
        workspace: 0,
        peakAllocated: e.graph.constantBytes + e.inputs + e.runs.run1PeakInUse,
        peakReserved: e.graph.constantBytes + e.runs.arenaReserved,
        runtimeOverhead: e.traits.sessionBaseBytes,
        total: e.loaded + e.inputs + e.afterRun2,
        peakAt: { layer: peakNode ? peakNode.name || peakNode.op : "", live: liveAt(e.graph, e.runs.peakNode) },
        // Not linear in the batch: arena regions double, and buffer reuse depends on shapes.
        perBatch: { formula: "arena simulation per batch (regions grow in powers of two): run analyze at each batch" },
        afterRun1: e.afterRun1,
        afterRun2: e.afterRun2,
        loadPeak: e.loadPeak,
        afterLoad: e.loaded,
        // The parts of afterLoad and afterRun2 (src/report/rows.ts draws them as rows that add up to the total).
        reorderedWeights: e.graph.reorderedWeightBytes,
        parsedModelCopy: e.embeddedWeights,
        mappedFirstRead: e.mappedFirstRead,
        arenaReserved: e.runs.arenaReserved,
        memoryPatternBlock: e.runs.patternPeak,
        assumptions: [
          "onnxruntime-node 1.30 CPU provider defaults: ORT_ENABLE_ALL, BFC arena (kNextPowerOfTwo), memory pattern, 2 intra-op threads",
          `CPU ${e.isa}: ${e.traits.nchwcBlock > 1 ? `NCHWc block ${e.traits.nchwcBlock}` : "no NCHWc layout"}; session base ${(e.traits.sessionBaseBytes / (1 << 20)).toFixed(1)} MiB, ${e.traits.sessionBaseSource}`,
          "process memory is RSS on Linux/glibc: only written pages count",
        ],
      },
      timeline,
      warnings,
    };
  },
};
