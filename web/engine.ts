/**
 * The page's analysis engine: load the chosen files once, analyse them at the page's settings, then sweep
 * the batch one size per task. It speaks in messages, so the same code runs in a Web Worker (the page stays
 * responsive, and an ONNX file is read lazily) or, where a worker cannot start, inside the page.
 */
import { analyzeModel, DEFAULT_SYMBOL_VALUE } from "../src/analyze.js";
import type { ByteSource } from "../src/formats/source.js";
import { estimate } from "../src/pipeline/estimate.js";
import { analyzeOptionsOf, DEFAULTS, type EstimateSettings } from "../src/pipeline/settings.js";
import { sourceName } from "../src/pipeline/source.js";
import type { Report } from "../src/contract/report.js";
import type { CpuIsa } from "../src/memory/cpu.js";
import { sweep, type SweepStep } from "../src/pipeline/sweep.js";
import { LLAMACPP_DEFAULTS } from "../src/memory/llamacpp/settings.js";
import { symbolsOf } from "../src/sym/expr.js";
import { loadFiles, type Loaded } from "./files.js";
import { browserCheck } from "../src/memory/browser.js";
import type { WebGpuLimits } from "../src/memory/ort-webgpu/limits.js";

/** A GGUF's context on the page when none is set: the one memlens's llama.cpp estimate takes (pipeline/settings.ts). */
export const DEFAULT_LLAMACPP_CTX = LLAMACPP_DEFAULTS.ctx;

export interface PageSettings {
  batch: number;
  dtype: string;
  runtime: string;
  device: string;
  /** CPU runtimes: the instruction set (the page's choice; a browser cannot read the CPU's). */
  cpu?: CpuIsa;
  /** inference, or generate (prompt of `seq` tokens, then `newTokens` decode steps: LLMs from config.json). */
  mode: string;
  newTokens?: number;
  /** The attention implementation an LLM's eager program uses. */
  attn: string;
  /** Values the user gave to symbols other than the batch. */
  dims: Record<string, number>;
  /** The limits this browser's WebGPU adapter reports (navigator.gpu.requestAdapter()); WebGPU's defaults when absent. */
  webgpuLimits?: WebGpuLimits;
}

/** New files (a new model) or only new settings for the model already loaded. */
export interface EngineRequest {
  id: number;
  files?: File[];
  settings: PageSettings;
}

export type EngineReply =
  | { id: number; kind: "report"; name: string; symbols: string[]; symbolDefault: number; report: Report; ms: number }
  | { id: number; kind: "sweep"; step: SweepStep }
  /** The sweep is over (after its last point, or a stop step); `error` when it failed unexpectedly. */
  | { id: number; kind: "sweep-end"; error?: string }
  | { id: number; kind: "error"; message: string };

/** Symbols a user may set besides the batch: every input's non-leading symbolic dims (the leading one is the batch). */
export function settableSymbols(loaded: Loaded): string[] {
  if (loaded.kind !== "onnx") return loaded.kind === "gguf" ? ["ctx"] : ["seq"];
  const names = new Set<string>();
  const leading = new Set<string>();
  for (const vi of loaded.model.graph.inputs) {
    if (vi.type.kind !== "tensor" || !vi.type.shape || loaded.model.graph.initializers.has(vi.name)) continue;
    vi.type.shape.forEach((d, i) => symbolsOf(d, i === 0 ? leading : names));
  }
  return [...names].filter((n) => !leading.has(n)).sort();
}

export function analyse(loaded: Loaded, s: PageSettings): { report: Report; sweep: Generator<SweepStep> } {
  if (loaded.kind === "gguf" && s.runtime === "llama.cpp") return llamaCppPage(loaded, s);
  const settings: EstimateSettings = { batch: s.batch, dims: s.dims, dtype: s.dtype, runtime: s.runtime, device: s.device, mode: s.mode, attn: s.attn, ...(s.cpu ? { cpu: s.cpu } : {}), ...(s.newTokens !== undefined ? { newTokens: s.newTokens } : {}) };
  if (loaded.kind !== "onnx") return { report: estimate(loaded, settings), sweep: sweep(loaded, settings) };
  if (s.mode !== "inference") throw new Error(`mode ${s.mode}: an ONNX graph is analysed for inference here (generate: choose the model's config.json)`);
  // The analysis itself (not only its Report): the browser check below reuses its shapes.
  const a = analyzeModel(loaded.model, { ...analyzeOptionsOf(settings), openExternal: loaded.openExternal, memory: true });
  const report = a.report;
  report.warnings.unshift(...loaded.warnings);
  // "Runs in the browser?": the same graph and shapes through onnxruntime-web's wasm and WebGPU backends.
  const check = { batch: s.batch, dtype: s.dtype, runtime: "ort-wasm", device: "cpu", mode: "inference" };
  report.browser = browserCheck({ model: loaded.model, inference: a.inference, bindings: a.bindings, settings: check }, s.webgpuLimits);
  return { report, sweep: sweep(loaded, settings) };
}

/**
 * A GGUF on llama.cpp: its buffers at the page's context (`ctx`, llama.cpp's -c), sequences (the batch, -np) and
 * device, through the one pipeline; the sweep is over the sequences. Its own tensor types run (no --dtype).
 */
function llamaCppPage(loaded: Extract<Loaded, { kind: "gguf" }>, s: PageSettings): { report: Report; sweep: Generator<SweepStep> } {
  const settings: EstimateSettings = { batch: s.batch, dims: s.dims, runtime: "llama.cpp", device: s.device, mode: s.mode, ...(s.cpu ? { cpu: s.cpu } : {}) };
  return { report: estimate(loaded, settings), sweep: sweep(loaded, settings) };
}

/**
 * The message handler. `openOnnx` gives a lazy source where the host can read a File synchronously (a
 * worker's FileReaderSync); without it the file is read whole. A newer request stops an older sweep.
 */
export function createEngine(post: (reply: EngineReply) => void, openOnnx?: (file: File) => ByteSource): (req: EngineRequest) => Promise<void> {
  let loaded: { name: string; value: Loaded } | undefined;
  let latest = 0;
  return async (req) => {
    latest = req.id;
    const t0 = performance.now();
    let sweep: Generator<SweepStep>;
    try {
      if (req.files) {
        loaded = undefined;
        const value = await loadFiles(req.files, openOnnx);
        loaded = { name: sourceName(value), value };
      }
      if (!loaded) throw new Error("no model loaded");
      const a = analyse(loaded.value, req.settings);
      sweep = a.sweep;
      const symbols = settableSymbols(loaded.value);
      const symbolDefault = loaded.value.kind === "onnx" ? DEFAULT_SYMBOL_VALUE : loaded.value.kind === "gguf" ? DEFAULT_LLAMACPP_CTX : DEFAULTS.seq;
      post({ id: req.id, kind: "report", name: loaded.name, symbols, symbolDefault, report: a.report, ms: performance.now() - t0 });
    } catch (e) {
      post({ id: req.id, kind: "error", message: e instanceof Error ? e.message : String(e) });
      return;
    }
    const tick = (): void => {
      if (req.id !== latest) return;
      let next: IteratorResult<SweepStep>;
      try {
        next = sweep.next();
      } catch (e) {
        post({ id: req.id, kind: "sweep-end", error: e instanceof Error ? e.message : String(e) });
        return;
      }
      if (next.done) {
        post({ id: req.id, kind: "sweep-end" });
        return;
      }
      post({ id: req.id, kind: "sweep", step: next.value });
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
  };
}
