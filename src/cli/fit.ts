import { defineCommand } from "citty";
import { analyzeModel, type AnalyzeOptions } from "../analyze.js";
import { UsageError } from "../errors.js";
import { findDevice } from "../memory/devices.js";
import type { Model } from "../graph/ir.js";
import { bytes } from "../report/format.js";
import { largestThatFits } from "../memory/fit-search.js";
import { isLlmPath } from "../llm/source.js";
import { fitLlmCli } from "./llm.js";
import { loadForCli } from "./load.js";
import { analyzeOptions, sharedArgs } from "./options.js";
import { printOut } from "./print.js";
import { onnxInputFiles } from "../quantize/save.js";
import { checkReportFiles, reportFiles, writeJsonFile } from "./report-files.js";

/** Batches (or context lengths) beyond this are not searched: a bound, not a device limit. */
export const MAX_SEARCH = 1 << 20;

export interface FitResult {
  device: string;
  capacity: number;
  /** Largest value of the solved dimension whose total fits; 0 when even 1 does not. */
  max: number;
  /** The total at `max` (at 1 when nothing fits). */
  total: number;
  /** The search stopped at MAX_SEARCH without running out of memory. */
  bounded: boolean;
}

/**
 * The largest batch (or `seq`) whose predicted total fits the device: doubling until it does not fit, then
 * bisection. The total grows with the batch, so the answer is the boundary of one monotone search.
 */
export function fitModel(model: Model, opts: AnalyzeOptions, solve: "batch" | "seq"): FitResult {
  const deviceId = opts.device ?? "h100";
  const device = findDevice(deviceId);
  if (!device) throw new UsageError(`--device ${deviceId}: unknown device`);
  const capacity = device.capacity.value;
  if (capacity === null) throw new UsageError(`--device ${deviceId} has no fixed memory capacity to fit into`);
  const totalAt = (n: number): number => {
    const o: AnalyzeOptions = { ...opts, memory: true };
    if (solve === "batch") o.batch = n;
    else o.dims = { ...(opts.dims ?? {}), seq: n };
    const m = analyzeModel(model, o).report.memory;
    if (!m) throw new UsageError(`runtime ${opts.runtime ?? "pytorch-cuda"} gives no memory estimate`);
    return m.total;
  };
  const r = largestThatFits(totalAt, capacity, MAX_SEARCH);
  return { device: deviceId, capacity, ...r };
}

export default defineCommand({
  meta: { name: "fit", description: "the largest batch (or context length) that fits the device" },
  args: { ...sharedArgs, solve: { type: "string", description: "batch|seq: the dimension to maximise", default: "batch" } },
  async run({ args, rawArgs }) {
    const solve = args.solve === "seq" ? "seq" : args.solve === "batch" || args.solve === undefined ? "batch" : undefined;
    if (!solve) throw new UsageError(`--solve must be batch or seq, got '${String(args.solve)}'`);
    const { usesLlamaCpp, fitLlamaCppCli } = await import("./llamacpp.js");
    if (usesLlamaCpp(args.model, args, rawArgs)) return fitLlamaCppCli(args.model, args, rawArgs);
    if (isLlmPath(args.model)) return fitLlmCli(args.model, args, rawArgs);
    const loaded = loadForCli(args.model);
    const files = reportFiles(args, rawArgs, onnxInputFiles(loaded.path, loaded.model));
    checkReportFiles(files);
    const opts = { ...analyzeOptions(args, rawArgs), openExternal: loaded.openExternal };
    const r = fitModel(loaded.model, opts, solve);
    const key = solve === "batch" ? "maxBatch" : "maxContext";
    writeJsonFile(files, { device: r.device, capacity: r.capacity, [key]: r.max, total: r.total });
    if (args.json && files.json === undefined) {
      printOut(JSON.stringify({ device: r.device, capacity: r.capacity, [key]: r.max, total: r.total }) + "\n");
      return;
    }
    const what = solve === "batch" ? "batch" : "context length (seq)";
    if (r.max === 0) {
      printOut(`${loaded.model.file}: does not fit on ${r.device} (${bytes(r.capacity)}) even at ${what} 1: needs ${bytes(r.total)}\n`);
      return;
    }
    const bound = r.bounded ? ` (search stopped at ${MAX_SEARCH})` : "";
    printOut(`${loaded.model.file}: largest ${what} on ${r.device}: ${r.max}${bound}, using ${bytes(r.total)} of ${bytes(r.capacity)}\n`);
  },
});
