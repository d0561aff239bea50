/** `analyze --html FILE`: the report with its batch sweep, rendered to one self-contained file. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { AnalyzeOptions } from "../analyze.js";
import { UsageError } from "../errors.js";
import type { Model } from "../graph/ir.js";
import { renderHtml } from "../report/html.js";
import type { Report } from "../report/report.js";
import { withCharts } from "../report/sweep.js";

export function writeHtmlReport(file: string, modelPath: string, report: Report, model: Model, opts: AnalyzeOptions): number {
  if (resolve(file) === resolve(modelPath)) throw new UsageError(`--html ${file}: that is the model file; refusing to write over it`);
  const html = renderHtml(withCharts(report, model, opts));
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new UsageError(`--html ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return Buffer.byteLength(html);
}
