/**
 * The web page: choose or drop a model, pick the settings, and see the same report the CLI writes with
 * `--html`, computed here by the same core (bundled by scripts/build-web.mjs). The analysis runs in a Web
 * Worker started from an inline blob (in the page itself where a worker cannot start). The model never
 * leaves the page: there is no server call, and the page's CSP forbids any.
 */
import { DEVICES } from "../src/memory/devices.js";
import { RUNTIMES } from "../src/memory/runtimes.js";
import { ALL_DTYPES, devicesFor } from "../src/memory/runtime-table.js";
import { CPU_ISAS, hostCpu, type CpuIsa } from "../src/memory/cpu.js";
import { batchChart } from "../src/report/charts.js";
import { REPORT_CSS, reportSections } from "../src/report/html.js";
import type { Report } from "../src/contract/report.js";
import { deviceCapacities } from "../src/pipeline/sweep.js";
import { createEngine, type EngineReply, type EngineRequest, type PageSettings } from "./engine.js";

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
  cpu: el<HTMLSelectElement>("cpu"),
  mode: el<HTMLSelectElement>("mode"),
  newTokens: el<HTMLInputElement>("new-tokens"),
  attn: el<HTMLSelectElement>("attn"),
  dims: el<HTMLElement>("dims"),
  status: el<HTMLElement>("status"),
  report: el<HTMLElement>("report"),
};

/** What this browser's WebGPU adapter allows in one buffer, once navigator.gpu answers (undefined: no WebGPU here). */
let adapterLimits: PageSettings["webgpuLimits"];

interface GpuAdapterLike {
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  info?: { vendor?: string; architecture?: string };
}

async function readAdapterLimits(): Promise<void> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) return;
  const who = [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(" ");
  adapterLimits = {
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    source: `this browser's WebGPU adapter${who ? ` (${who})` : ""}, from navigator.gpu.requestAdapter()`,
  };
  rerun();
}

/** An engine step's time budget (startEngine, below). */
export const STEP_BUDGET_MS = 20_000;

/** The request in flight or last answered: replies to older ones are dropped. */
let latest = { id: 0, t0: 0, newModel: false };
let loadedName: string | undefined;
let shown: Report | undefined;

const send = startEngine(receive);

/**
 * Time budget of one step of the engine: a model's analysis, or one point of its batch sweep. A step that
 * has not answered within it is stopped: the worker is terminated (which interrupts even a synchronous
 * loop), a fresh one is started and the page says why, so a hostile or absurd file never freezes the tab.
 * Memory is bounded by the same limits as the CLI (the readers' named limits, issue 12) and by the
 * browser's own per-worker heap; a worker that runs out of it errors and is replaced the same way.
 * `#budget=MS` in the page's address sets another budget (the browser test uses a short one).
 * (STEP_BUDGET_MS is declared at the top: the engine starts while this module is still being evaluated.)
 */
function stepBudgetMs(): number {
  const m = /(?:^#|&)budget=(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : STEP_BUDGET_MS;
}

/** A worker from the inline bundle, replaced when a step runs past its budget; the same engine in the page where workers are unavailable. */
function startEngine(onReply: (r: EngineReply) => void): (req: EngineRequest) => void {
  try {
    // #no-worker: the in-page path on purpose (the browser test checks it this way).
    if (location.hash === "#no-worker") throw new Error("worker disabled");
    const url = URL.createObjectURL(new Blob([__MEMLENS_WORKER__], { type: "text/javascript" }));
    const budget = stepBudgetMs();
    let worker: Worker;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const replace = (why: string) => {
      clearTimeout(watchdog);
      watchdog = undefined;
      worker.terminate();
      // The model the old worker held is gone with it: the next change of settings has nothing to analyse.
      loadedName = undefined;
      worker = spawn();
      onReply({ id: latest.id, kind: "error", message: why });
    };
    const arm = (open: boolean) => {
      clearTimeout(watchdog);
      watchdog = open ? setTimeout(() => replace(`analysis stopped after ${Math.round(budget / 1000)} s (the page's time budget): the file is too large to analyse here, or built to explode; choose another file`), budget) : undefined;
    };
    const spawn = (): Worker => {
      const w = new Worker(url);
      w.onmessage = (e: MessageEvent<EngineReply>) => {
        // Every answer restarts the clock; the sweep's end or an error closes it.
        if (e.data.id === latest.id) arm(e.data.kind === "report" || e.data.kind === "sweep");
        onReply(e.data);
      };
      w.onerror = (e) => {
        e.preventDefault();
        replace(`analysis failed: ${e.message || "the worker stopped (out of memory?)"}`);
      };
      return w;
    };
    worker = spawn();
    document.documentElement.dataset["engine"] = "worker";
    return (req) => {
      arm(true);
      worker.postMessage(req);
    };
  } catch {
    document.documentElement.dataset["engine"] = "page";
    const handle = createEngine((reply) => setTimeout(() => onReply(reply), 0));
    return (req) => void handle(req);
  }
}

function setup(): void {
  const style = document.createElement("style");
  style.textContent = REPORT_CSS;
  document.head.append(style);
  // Choices from the runtime and device tables (src/memory/runtime-table.ts), as the CLI's --help lists them.
  for (const t of ALL_DTYPES) ui.dtype.append(new Option(t, t));
  for (const r of RUNTIMES) ui.runtime.append(new Option(r.id, r.id));
  for (const d of DEVICES) ui.device.append(new Option(`${d.id} (${d.name})`, d.id));
  ui.device.value = "h100";
  for (const c of CPU_ISAS) ui.cpu.append(new Option(c, c));
  ui.cpu.value = hostCpu().isa;
  ui.file.addEventListener("change", () => choose([...(ui.file.files ?? [])]));
  ui.drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.drop.addEventListener("drop", (e) => {
    e.preventDefault();
    ui.drop.classList.remove("over");
    choose([...(e.dataTransfer?.files ?? [])]);
  });
  ui.runtime.addEventListener("change", () => {
    // A device the runtime does not run on becomes its default (ort-cpu: cpu; a GPU runtime: h100), and a dtype it
    // does not take, its first.
    const spec = RUNTIMES.find((r) => r.id === ui.runtime.value);
    if (spec && !devicesFor(spec).includes(ui.device.value)) ui.device.value = spec.defaultDevice;
    if (spec && !spec.dtypes.includes(ui.dtype.value)) ui.dtype.value = spec.dtypes[0]!;
    rerun();
  });
  for (const c of [ui.batch, ui.dtype, ui.device, ui.cpu, ui.mode, ui.newTokens, ui.attn]) c.addEventListener("change", rerun);
  ui.dims.addEventListener("change", rerun);
  void readAdapterLimits();
  status("idle", "choose or drop a model: .onnx (with its external data files), config.json (+ .safetensors), or .gguf");
}

function status(state: "idle" | "loading" | "ready" | "error", text: string, ms?: number): void {
  ui.status.dataset["state"] = state;
  if (ms === undefined) delete ui.status.dataset["ms"];
  else ui.status.dataset["ms"] = String(Math.round(ms));
  ui.status.textContent = text;
}

function choose(files: File[]): void {
  if (files.length === 0) return;
  const t0 = performance.now();
  let settings: PageSettings;
  try {
    // A new model has its own symbols: their inputs are rebuilt when its report arrives.
    ui.dims.replaceChildren();
    // A GGUF file is run by llama.cpp, on the host unless a GPU is chosen.
    if (files.some((f) => /\.gguf$/i.test(f.name))) {
      ui.runtime.value = "llama.cpp";
      ui.device.value = "cpu";
    }
    settings = readSettings();
  } catch (e) {
    status("error", message(e));
    return;
  }
  status("loading", `reading ${files.map((f) => f.name).join(", ")}…`);
  latest = { id: latest.id + 1, t0, newModel: true };
  send({ id: latest.id, files, settings });
}

function rerun(): void {
  if (loadedName === undefined) return;
  let settings: PageSettings;
  try {
    settings = readSettings();
  } catch (e) {
    status("error", message(e));
    return;
  }
  latest = { id: latest.id + 1, t0: performance.now(), newModel: false };
  status("loading", `analysing ${loadedName}…`);
  send({ id: latest.id, settings });
}

function positive(text: string, what: string): number | undefined {
  if (text.trim() === "") return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got '${text}'`);
  return n;
}

function readSettings(): PageSettings {
  const dims: Record<string, number> = {};
  for (const input of ui.dims.querySelectorAll<HTMLInputElement>("input[data-dim]")) {
    const v = positive(input.value, input.dataset["dim"]!);
    if (v !== undefined) dims[input.dataset["dim"]!] = v;
  }
  const settings: PageSettings = { batch: positive(ui.batch.value, "batch") ?? 1, dtype: ui.dtype.value, runtime: ui.runtime.value, device: ui.device.value, cpu: ui.cpu.value as CpuIsa, mode: ui.mode.value, attn: ui.attn.value, dims };
  const newTokens = positive(ui.newTokens.value, "new tokens");
  if (newTokens !== undefined) settings.newTokens = newTokens;
  if (adapterLimits) settings.webgpuLimits = adapterLimits;
  return settings;
}

function dimInputs(names: readonly string[], placeholder: number): HTMLElement[] {
  return names.map((name) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.min = "1";
    input.dataset["dim"] = name;
    input.placeholder = String(placeholder);
    label.append(`${name} `, input);
    return label;
  });
}

function receive(reply: EngineReply): void {
  if (reply.id !== latest.id) return;
  if (reply.kind === "error") {
    if (latest.newModel) {
      loadedName = undefined;
      ui.report.replaceChildren();
    }
    status("error", reply.message);
    return;
  }
  if (reply.kind === "report") {
    if (latest.newModel) ui.dims.replaceChildren(...dimInputs(reply.symbols, reply.symbolDefault));
    loadedName = reply.name;
    shown = { ...reply.report, batchSweep: { points: [] }, devices: deviceCapacities() };
    ui.report.innerHTML = reportSections(shown);
    const section = sweepSection();
    if (section) {
      section.dataset["sweep"] = "running";
      section.innerHTML = `<h2>Memory against the batch</h2><p class="note">analysing batch sizes 1, 2, 4, …</p>`;
    }
    const ms = performance.now() - latest.t0;
    status("ready", `${reply.name}: analysed in ${Math.round(ms)} ms, in this page (nothing was uploaded)`, ms);
    return;
  }
  const section = sweepSection();
  if (!shown?.batchSweep || !section) return;
  if (reply.kind === "sweep") {
    const step = reply.step;
    if ("point" in step) shown.batchSweep.points.push(step.point);
    else shown.batchSweep.stoppedAt = { batch: step.batch, reason: step.stop };
  } else if (reply.error) shown.batchSweep.stoppedAt = { batch: 0, reason: reply.error };
  section.innerHTML = `<h2>Memory against the batch</h2>${batchChart(shown)}`;
  if (reply.kind === "sweep-end") section.dataset["sweep"] = "done";
}

function sweepSection(): HTMLElement | null {
  return ui.report.querySelector<HTMLElement>("#batch");
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

setup();
