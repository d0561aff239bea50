/** `analyze --html FILE`: the report with its batch sweep, rendered to one self-contained file. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { AnalyzeOptions } from "../analyze.js";
import { UsageError } from "../errors.js";
import type { Model } from "../graph/ir.js";
import { renderHtml } from "../report/html.js";
import type { Report } from "../report/report.js";
import { withCharts } from "../report/sweep.js";

/** An ONNX analysis: adds the batch sweep (one analysis per power of two) and writes the page. Returns its bytes. */
export function writeHtmlReport(file: string, modelPath: string, report: Report, model: Model, opts: AnalyzeOptions): number {
  checkTarget(file, modelPath);
  return writeReportHtml(file, modelPath, withCharts(report, model, opts));
}

function checkTarget(file: string, inputPath: string): void {
  if (resolve(file) === resolve(inputPath)) throw new UsageError(`--html ${file}: that is the model file; refusing to write over it`);
}

/**
 * Any report (an LLM's too: pass `withLlmCharts(report, arch, settings)` from src/report/sweep.ts for its
 * batch chart) to one self-contained file. Returns its bytes.
 */
export function writeReportHtml(file: string, inputPath: string, report: Report): number {
  checkTarget(file, inputPath);
  const html = renderHtml(report);
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new UsageError(`--html ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return Buffer.byteLength(html);
}
