/** `analyze --html FILE` and `--json=FILE` (analyze, layers, fit): reports written to files, through the one safe writer. */
import { UsageError } from "../errors.js";
import { checkOutput, writeOutput, type OutputOptions } from "../formats/write-node.js";
import type { Report } from "../contract/report.js";
import { printErr } from "./print.js";

/** The report files a command line asks for: `--html FILE`, `--json=FILE`. */
export interface ReportFiles {
  html?: string;
  json?: string;
  /** Every file the run reads (no report may be written over one). */
  inputs: readonly string[];
  force: boolean;
}

/** `--json=FILE` (the `=` form: a bare `--json` prints to stdout). */
export function jsonFileArg(rawArgs: readonly string[]): string | undefined {
  const given = rawArgs.filter((a) => a.startsWith("--json=")).map((a) => a.slice("--json=".length));
  const file = given[given.length - 1];
  if (file === undefined || file === "true") return undefined;
  if (file === "" || file === "false") throw new UsageError(`--json=${file}: expected --json=FILE, or --json to print to stdout`);
  return file;
}

export function reportFiles(args: Record<string, unknown>, rawArgs: readonly string[], inputs: readonly string[]): ReportFiles {
  const html = typeof args["html"] === "string" && args["html"] !== "" ? args["html"] : undefined;
  const json = jsonFileArg(rawArgs);
  return { ...(html !== undefined ? { html } : {}), ...(json !== undefined ? { json } : {}), inputs, force: args["force"] === true };
}

const options = (files: ReportFiles, flag: string): OutputOptions => ({ flag, inputs: files.inputs, force: files.force });

/** Refuse any report target now, before the analysis runs (an input, a missing folder, a read-only file). */
export function checkReportFiles(files: ReportFiles): void {
  if (files.html !== undefined) checkOutput(files.html, options(files, "--html"));
  if (files.json !== undefined) checkOutput(files.json, options(files, "--json"));
}

function write(file: string, text: string, output: OutputOptions): void {
  const bytes = writeOutput(file, [Buffer.from(text)], output);
  printErr(`memlens: wrote ${file} (${bytes} bytes)\n`);
}

/** `--json=FILE` of a command whose JSON is not a Report (layers, fit): written as given. */
export function writeJsonFile(files: ReportFiles, value: unknown): void {
  if (files.json !== undefined) write(files.json, JSON.stringify(value) + "\n", options(files, "--json"));
}

/**
 * Writes the JSON report (`--json=FILE`), and the HTML page of the report `page()` makes (`--html FILE`: the
 * report with its sweeps, computed only when asked for).
 */
export async function writeReportFiles(files: ReportFiles, report: Report, page: () => Promise<Report>): Promise<void> {
  if (files.json !== undefined) write(files.json, JSON.stringify(report) + "\n", options(files, "--json"));
  if (files.html !== undefined) {
    const { renderHtml } = await import("../report/html.js");
    write(files.html, renderHtml(await page()), options(files, "--html"));
  }
}
