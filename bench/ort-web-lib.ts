/**
 * bench:ort-web's comparison, pure over the ground truth file: memlens's `ort-wasm` prediction of the wasm heap
 * (after session creation, run 1, run 2) against onnxruntime-web's own heap in Node (bench/ort-web-measure.ts),
 * and the setting built not to fit: predicted not to fit, and onnxruntime-web failed on it.
 */
import { readFileSync } from "node:fs";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { ORT_WEB_SETTINGS, ORT_WEBGPU_SETTINGS, type OrtWebSetting } from "./ort-web-settings.js";

export interface OrtWebRun {
  key: string;
  heap_created?: number;
  heap_run1?: number;
  heap_run2?: number;
  heap_failed?: number;
  error?: string;
}

export interface OrtWebLine {
  key: string;
  tooBig: boolean;
  /** The same setting in headless chromium (bench/ort-web-browser.ts), when measured. */
  chromium?: { created: number; run1: number; run2: number };
  measured: { created: number; run1: number; run2: number; error?: string };
  predicted: { created: number; run1: number; run2: number; fits: boolean; overBy: number };
  /** Signed relative error, predicted vs measured; undefined for the failing setting. */
  error?: { created: number; run1: number; run2: number };
}

interface Limit {
  fits: boolean;
  overBy: number;
}

export function predictSetting(s: OrtWebSetting): OrtWebLine["predicted"] {
  const { model, openExternal, source } = loadModelFile(s.file);
  try {
    const batch = s.dims["batch"] ?? 1;
    const { report } = analyzeModel(model, { batch, dims: s.dims, runtime: "ort-wasm", device: "cpu", memory: true, openExternal });
    const m = report.memory!;
    const limit = m["limit"] as Limit;
    return { created: m["afterLoad"] as number, run1: m.afterRun1 ?? 0, run2: m.afterRun2 ?? 0, fits: limit.fits, overBy: limit.overBy };
  } finally {
    source.close();
  }
}

export function compareOrtWeb(groundTruthFile: string): OrtWebLine[] {
  const doc = JSON.parse(readFileSync(groundTruthFile, "utf8")) as { runs: OrtWebRun[]; browser?: OrtWebRun[] };
  const runs = doc.runs;
  const lines: OrtWebLine[] = [];
  for (const s of ORT_WEB_SETTINGS) {
    const r = runs.find((x) => x.key === s.key);
    if (!r) continue;
    const predicted = predictSetting(s);
    const measured = { created: r.heap_created ?? 0, run1: r.heap_run1 ?? r.heap_failed ?? 0, run2: r.heap_run2 ?? r.heap_failed ?? 0, ...(r.error ? { error: r.error } : {}) };
    const rel = (p: number, m: number) => (p - m) / m;
    const line: OrtWebLine = { key: s.key, tooBig: s.tooBig ?? false, measured, predicted };
    const c = doc.browser?.find((x) => x.key === s.key);
    if (c && !c.error) line.chromium = { created: c.heap_created ?? 0, run1: c.heap_run1 ?? 0, run2: c.heap_run2 ?? 0 };
    if (!r.error) line.error = { created: rel(predicted.created, measured.created), run1: rel(predicted.run1, measured.run1), run2: rel(predicted.run2, measured.run2) };
    lines.push(line);
  }
  return lines;
}

export function medianAbs(xs: readonly number[]): number {
  const s = xs.map(Math.abs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface WebGpuLine {
  key: string;
  tooBig: boolean;
  /** largest: the largest createBuffer size before the error, when onnxruntime-web failed. */
  measured: { largest: number; adapter: { maxBufferSize: number; maxStorageBufferBindingSize: number }; error?: string };
  predicted: { name: string; bytes: number; fits: boolean };
}

interface WebGpuRun {
  key: string;
  adapter: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  created?: { largest: number };
  run1?: { largest: number };
  error?: string;
}

/** The largest buffer memlens names for onnxruntime-web's WebGPU EP, against the largest createBuffer measured. */
export function compareWebGpu(groundTruthFile: string): WebGpuLine[] {
  const runs = (JSON.parse(readFileSync(groundTruthFile, "utf8")) as { runs: WebGpuRun[] }).runs;
  const lines: WebGpuLine[] = [];
  for (const s of ORT_WEBGPU_SETTINGS) {
    const r = runs.find((x) => x.key === s.key);
    const largest = r?.run1?.largest ?? r?.created?.largest;
    if (!r || (!r.error && largest === undefined)) continue;
    const { model, openExternal, source } = loadModelFile(s.file);
    try {
      const limits = { ...r.adapter, source: "the SwiftShader adapter the measurement ran on" };
      const { report } = analyzeModel(model, { batch: s.dims["batch"] ?? 1, dims: s.dims, runtime: "ort-webgpu", device: "cpu", memory: true, openExternal, webgpuLimits: limits });
      const w = report.memory!["webgpu"] as { largestBuffer: { name: string; bytes: number }; fits: boolean };
      lines.push({ key: s.key, tooBig: s.tooBig ?? false, measured: { largest: largest ?? 0, adapter: r.adapter, ...(r.error ? { error: r.error } : {}) }, predicted: { ...w.largestBuffer, fits: w.fits } });
    } finally {
      source.close();
    }
  }
  return lines;
}
