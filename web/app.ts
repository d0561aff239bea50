/**
 * The web page: choose or drop a model, pick the settings, and see the same report the CLI writes with
 * `--html`, computed here by the same core (bundled by scripts/build-web.mjs). The model never leaves the
 * page: there is no server call, and the page's CSP forbids any.
 */
import { analyzeModel, DEFAULT_SYMBOL_VALUE, type AnalyzeOptions } from "../src/analyze.js";
import { llmReport, type LlmSettings } from "../src/llm/estimate.js";
import { DEVICES } from "../src/memory/devices.js";
import { RUNTIMES } from "../src/memory/runtimes.js";
import { batchChart } from "../src/report/charts.js";
import { REPORT_CSS, reportSections } from "../src/report/html.js";
import type { BatchSweep, Report } from "../src/report/report.js";
import { batchSweepSteps, deviceCapacities, llmSweepSteps, type SweepStep } from "../src/report/sweep.js";
import { symbolsOf } from "../src/sym/expr.js";
import { loadFiles, type Loaded } from "./files.js";

/** The prompt length for config.json/safetensors models when none is set (as the CLI's default). */
const DEFAULT_LLM_SEQ = 512;

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
};

const ui = {
  file: el<HTMLInputElement>("file"),
  drop: el<HTMLElement>("drop"),
  batch: el<HTMLInputElement>("batch"),
  dtype: el<HTMLSelectElement>("dtype"),
  runtime: el<HTMLSelectElement>("runtime"),
  device: el<HTMLSelectElement>("device"),
  dims: el<HTMLElement>("dims"),
  status: el<HTMLElement>("status"),
  report: el<HTMLElement>("report"),
};

interface Current {
  name: string;
  loaded: Loaded;
}

let current: Current | undefined;
/** Bumped on every new analysis, so a sweep still running for old settings stops. */
let generation = 0;

function setup(): void {
  const style = document.createElement("style");
  style.textContent = REPORT_CSS;
  document.head.append(style);
  for (const r of RUNTIMES) ui.runtime.append(new Option(r.id, r.id));
  for (const d of DEVICES) ui.device.append(new Option(`${d.id} (${d.name})`, d.id));
  ui.device.value = "h100";
  ui.file.addEventListener("change", () => void choose([...(ui.file.files ?? [])]));
  ui.drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.drop.addEventListener("drop", (e) => {
    e.preventDefault();
    ui.drop.classList.remove("over");
    void choose([...(e.dataTransfer?.files ?? [])]);
  });
  ui.runtime.addEventListener("change", () => {
    // ort-cpu runs on the host; a GPU runtime needs a GPU.
    if (ui.runtime.value.startsWith("ort-cpu")) ui.device.value = "cpu";
    else if (ui.device.value === "cpu") ui.device.value = "h100";
    rerun();
  });
  for (const c of [ui.batch, ui.dtype, ui.device]) c.addEventListener("change", rerun);
  ui.dims.addEventListener("change", rerun);
}

function status(state: "idle" | "loading" | "ready" | "error", text: string, ms?: number): void {
  ui.status.dataset["state"] = state;
  if (ms === undefined) delete ui.status.dataset["ms"];
  else ui.status.dataset["ms"] = String(Math.round(ms));
  ui.status.textContent = text;
}

async function choose(files: File[]): Promise<void> {
  if (files.length === 0) return;
  const t0 = performance.now();
  status("loading", `reading ${files.map((f) => f.name).join(", ")}…`);
  try {
    const loaded = await loadFiles(files);
    current = { name: loaded.kind === "onnx" ? loaded.model.file : loaded.source.file, loaded };
    ui.dims.replaceChildren(...dimInputs(loaded));
    run(t0);
  } catch (e) {
    current = undefined;
    ui.report.replaceChildren();
    status("error", message(e));
  }
}

function rerun(): void {
  if (current) run(performance.now());
}

/** Inputs for the symbols that are not the batch (seq, past length...), each with its current value. */
function dimInputs(loaded: Loaded): HTMLElement[] {
  const names = new Set<string>();
  if (loaded.kind === "llm") names.add("seq");
  else {
    for (const vi of loaded.model.graph.inputs) {
      if (vi.type.kind !== "tensor" || !vi.type.shape || loaded.model.graph.initializers.has(vi.name)) continue;
      // The leading dim is bound by the batch (as the CLI does); the others are set here.
      vi.type.shape.slice(1).forEach((d) => symbolsOf(d, names));
    }
    for (const vi of loaded.model.graph.inputs) {
      const lead = vi.type.kind === "tensor" ? vi.type.shape?.[0] : undefined;
      if (lead !== undefined) for (const s of symbolsOf(lead)) names.delete(s);
    }
  }
  return [...names].sort().map((name) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.min = "1";
    input.dataset["dim"] = name;
    input.placeholder = String(loaded.kind === "llm" ? DEFAULT_LLM_SEQ : DEFAULT_SYMBOL_VALUE);
    label.append(`${name} `, input);
    return label;
  });
}

function positive(text: string, what: string): number | undefined {
  if (text.trim() === "") return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got '${text}'`);
  return n;
}

function dimValues(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const input of ui.dims.querySelectorAll<HTMLInputElement>("input[data-dim]")) {
    const v = positive(input.value, input.dataset["dim"]!);
    if (v !== undefined) out[input.dataset["dim"]!] = v;
  }
  return out;
}

interface Analysed {
  report: Report;
  sweep: Generator<SweepStep>;
}

function analyse(loaded: Loaded): Analysed {
  const batch = positive(ui.batch.value, "batch") ?? 1;
  const dims = dimValues();
  if (loaded.kind === "onnx") {
    const opts: AnalyzeOptions = { batch, dims, dtype: ui.dtype.value, runtime: ui.runtime.value, device: ui.device.value, openExternal: loaded.openExternal, memory: true };
    return { report: analyzeModel(loaded.model, opts).report, sweep: batchSweepSteps(loaded.model, opts) };
  }
  const dtype = ui.dtype.value;
  if (dtype !== "fp32" && dtype !== "fp16" && dtype !== "bf16") throw new Error(`dtype ${dtype}: transformers run fp32, fp16 or bf16`);
  if (ui.runtime.value !== "pytorch-cuda") throw new Error(`runtime ${ui.runtime.value}: config.json/safetensors models are estimated for pytorch-cuda`);
  const s: LlmSettings = { batch, seq: dims["seq"] ?? DEFAULT_LLM_SEQ, dtype, device: ui.device.value, mode: "inference", newTokens: 0, attn: "sdpa" };
  const report = llmReport(loaded.source, s);
  if (dims["seq"] === undefined) report.warnings.unshift(`sequence length not set: using ${DEFAULT_LLM_SEQ} tokens`);
  const arch = loaded.source.arch;
  return { report, sweep: llmSweepSteps(arch, s) };
}

function run(t0: number): void {
  const cur = current;
  if (!cur) return;
  const gen = ++generation;
  let analysed: Analysed;
  try {
    analysed = analyse(cur.loaded);
  } catch (e) {
    ui.report.replaceChildren();
    status("error", message(e));
    return;
  }
  const sweep: BatchSweep = { points: [] };
  const report: Report = { ...analysed.report, batchSweep: sweep, devices: deviceCapacities() };
  ui.report.innerHTML = reportSections(report);
  const ms = performance.now() - t0;
  status("ready", `${cur.name}: analysed in ${Math.round(ms)} ms, in this page (nothing was uploaded)`, ms);
  continueSweep(gen, report, analysed.sweep);
}

/** One batch size per task, so the page stays responsive; the chart redraws as points arrive. */
function continueSweep(gen: number, report: Report, steps: Generator<SweepStep>): void {
  const section = ui.report.querySelector<HTMLElement>("#batch");
  if (!section) return;
  section.dataset["sweep"] = "running";
  const tick = (): void => {
    if (gen !== generation) return;
    const next = steps.next();
    if (!next.done) {
      const step = next.value;
      if ("point" in step) report.batchSweep!.points.push(step.point);
      else report.batchSweep!.stoppedAt = { batch: step.batch, reason: step.stop };
    }
    section.innerHTML = `<h2>Memory against the batch</h2>${batchChart(report)}`;
    if (next.done || "stop" in next.value) section.dataset["sweep"] = "done";
    else setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

setup();
status("idle", "choose or drop a model: .onnx (with its external data files), or config.json (+ .safetensors)");
