/**
 * The memory report as rows that add up to its total, for every renderer (the terminal table, the page's
 * waterfall). Each row is a part of the runtime's own accounting; the one row that is a difference says what
 * it holds, and a runtime whose parts would not add up gets no breakdown rather than a row that hides it.
 */
import type { MemoryReport, Report } from "../contract/report.js";
import { bytes } from "./format.js";

export type RowCategory = "weights" | "inputs" | "activations" | "workspace" | "reserve" | "runtime" | "other";

export interface MemoryRow {
  label: string;
  bytes: number;
  category: RowCategory;
  why: string;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function memoryRows(report: Report): MemoryRow[] {
  const m = report.memory;
  if (!m) return [];
  const rows = num(m["afterLoad"]) !== undefined ? ortCpuRows(report, m) : report.settings.runtime === "pytorch-cuda" ? cudaRows(report, m) : genericRows(report, m);
  // The rows are the total split: if a runtime's parts do not reach it exactly, say only what is known.
  const sum = rows.reduce((a, r) => a + r.bytes, 0);
  if (rows.some((r) => r.bytes < 0) || sum !== m.total) return genericRows(report, m);
  return rows.filter((r) => r.bytes !== 0);
}

function weightsWhy(report: Report): string {
  const s = report.settings;
  const dtype = s.mode === "train" && s.dtype !== "fp32" ? `fp32 (mixed precision: ${s.dtype} compute)` : s.dtype;
  const m = report.memory;
  const eager = num(m?.["eagerParameters"]);
  const folded = num(m?.["foldedBatchNorms"]) ?? 0;
  const file = report.model.parameters.toLocaleString("en-US");
  // A TorchScript or dynamo export folds each BatchNorm into its conv; eager PyTorch holds the module unfolded.
  if (eager !== undefined && folded > 0 && eager !== report.model.parameters) {
    return `${eager.toLocaleString("en-US")} parameters as ${dtype} and BatchNorm statistics (the file has ${file}: its exporter folded ${folded} BatchNorms into the convolutions)`;
  }
  return `${file} parameters as ${dtype}`;
}

function peakWhy(m: MemoryReport, batch: number, what: string): string {
  const at = m.peakAt.layer ? `${what} at the peak, ${m.peakAt.layer}` : `${what} at the peak`;
  return batch > 1 ? `${at} (batch ${batch}: ${bytes(Math.round(m.activationPeak / batch))} per sample)` : at;
}

/**
 * pytorch-cuda: total = reserved segments + CUDA context and kernels; reserved = the allocated peak + what the
 * caching allocator keeps beyond it; the allocated peak = weights, activations (and in training gradients and
 * optimizer state), and the rest the simulation allocated (the cuBLAS workspace, inputs, the cuBLASLt
 * workspace, 512-byte block rounding).
 */
function cudaRows(report: Report, m: MemoryReport): MemoryRow[] {
  const reserved = m.total - m.runtimeOverhead;
  const allocated = Math.min(m.peakAllocated, reserved);
  const training = m["training"] as Record<string, unknown> | undefined;
  const distributed = m["distributed"] as Record<string, unknown> | undefined;
  const rows: MemoryRow[] = [];
  const modelStates = num(distributed?.["total"]);
  if (modelStates !== undefined) {
    rows.push({ label: "model states", bytes: modelStates, category: "weights", why: `parameters, gradients and optimizer state per GPU (${String(distributed?.["strategy"])}, ${String(distributed?.["gpus"])} GPUs)` });
  } else {
    rows.push({ label: "weights", bytes: m.weights, category: "weights", why: weightsWhy(report) });
    const optimizer = num(training?.["optimizerState"]);
    rows.push({ label: "activations", bytes: m.activationPeak, category: "activations", why: peakWhy(m, report.settings.batch, training ? "activations and gradients" : "live") });
    if (optimizer !== undefined) rows.push({ label: "optimizer state", bytes: optimizer, category: "weights", why: `${String(training?.["optimizer"])}: its per-parameter buffers` });
  }
  // The cuDNN scratch counted in `workspace` is an op's temporary, often inside the activation peak already:
  // the workspace is named in the row that holds what the peak allocated besides the rows above.
  const named = rows.reduce((a, r) => a + r.bytes, 0);
  rows.push({
    label: modelStates !== undefined ? "activations, workspace" : "workspace, other",
    bytes: allocated - named,
    category: "workspace",
    why: `${modelStates !== undefined ? "activations, " : ""}workspaces ${bytes(m.workspace)} (cuBLAS; cuDNN scratch), inputs, cuBLASLt workspace, 512-byte rounding: the allocated peak minus the rows above`,
  });
  rows.push({ label: "allocator", bytes: reserved - allocated, category: "reserve", why: `reserves ${bytes(reserved)} for a peak of ${bytes(allocated)} allocated (segments, rounding, blocks cached for reuse)` });
  rows.push({ label: "CUDA runtime", bytes: m.runtimeOverhead, category: "runtime", why: "context and library kernels, outside the allocator" });
  return rows;
}

/**
 * ort-cpu (process RSS): total = the loaded session + the inputs + what the runs add. The loaded session is
 * the runtime's base, the session's weights, the NCHWc blocked copies, and the parsed model's copy of the
 * weights stored inside the .onnx; weights in a mapped data file become resident during the first run.
 */
function ortCpuRows(report: Report, m: MemoryReport): MemoryRow[] {
  const reordered = num(m["reorderedWeights"]) ?? 0;
  const parsed = num(m["parsedModelCopy"]) ?? 0;
  const mapped = num(m["mappedFirstRead"]) ?? 0;
  const runs = num(m.afterRun2) ?? 0;
  return [
    { label: "weights", bytes: m.weights, category: "weights", why: `${weightsWhy(report)}: the session's initializers after graph optimization` },
    { label: "blocked copies", bytes: reordered, category: "weights", why: "Conv weights the NCHWc transformer copies into its blocked layout" },
    { label: "parsed model", bytes: parsed, category: "weights", why: "weights stored inside the .onnx: the parsed model's copy stays in the heap" },
    { label: "inputs", bytes: m.inputs, category: "inputs", why: "the batch's input tensors" },
    { label: "runs", bytes: runs - mapped, category: "activations", why: `arena pages the two runs write (activations peak ${bytes(m.activationPeak)}${m.peakAt.layer ? ` at ${m.peakAt.layer}` : ""}), the memory pattern's block, the outputs copied to the caller, the threads' first work` },
    { label: "runtime", bytes: m.runtimeOverhead, category: "runtime", why: "onnxruntime's library, environment and threads (the session base)" },
  ];
}

/** Any other runtime: weights and activations when they fit in the total, the rest named as such. */
function genericRows(report: Report, m: MemoryReport): MemoryRow[] {
  const named = m.weights + m.activationPeak;
  if (named > m.total) return [{ label: "total", bytes: m.total, category: "other", why: "this runtime's estimate has no breakdown that adds up" }];
  const rows: MemoryRow[] = [
    { label: "weights", bytes: m.weights, category: "weights", why: weightsWhy(report) },
    { label: "activations", bytes: m.activationPeak, category: "activations", why: peakWhy(m, report.settings.batch, "live") },
    { label: "rest", bytes: m.total - named, category: "other", why: "the runtime's total minus weights and activations" },
  ];
  return rows.filter((r) => r.bytes !== 0);
}
