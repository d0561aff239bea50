/** `memlens quantize`: a thin layer over the library's quantize(model) and the quantized model's save(path). */
import { defineCommand } from "citty";
import { bytes } from "../report/format.js";
import { UsageError } from "../errors.js";
import { quantize } from "../quantize/model.js";
import type { QuantizeOptions, QuantizeReport } from "../quantize/quantize.js";
import { defaultOutputPath } from "../quantize/save.js";
import { MemlensModel } from "../runtime/model.js";
import { preprocessArgs, preprocessOptions } from "./preprocess-args.js";
import { printOut, printErr } from "./print.js";

export default defineCommand({
  meta: { name: "quantize", description: "write an int8 or int4 model; report file, weight and memory sizes and accuracy before/after" },
  args: {
    model: { type: "positional", required: true, description: "the ONNX model" },
    output: { type: "string", alias: "o", description: "output file (default MODEL.int8.onnx / .int4.onnx beside the input)" },
    bits: { type: "string", default: "8", description: "8 or 4 (4: weight-only MatMul/Gemm with MatMulNBits)" },
    mode: { type: "string", description: "int8: static (calibrated QDQ) or dynamic (default static when calibration images exist)" },
    calibrate: { type: "string", description: "folder of calibration images (default calibration/ beside the model)" },
    "calibrate-limit": { type: "string", description: "use at most N calibration images" },
    method: { type: "string", default: "minmax", description: "calibration: minmax or percentile" },
    percentile: { type: "string", description: "percentile method: keep this percentile at each end (default 99.99)" },
    "keep-float": { type: "string", description: "comma list of first, last, node or tensor names to leave float" },
    "block-size": { type: "string", default: "32", description: "int4 block size: 32 or 128" },
    "reduce-range": { type: "boolean", description: "7-bit int8 weights (CPUs without VNNI)" },
    eval: { type: "string", description: "labelled images (LABEL/*.png folder or IDX dataset folder): accuracy before/after" },
    "eval-limit": { type: "string", description: "use at most N labelled images" },
    runtime: { type: "string", default: "ort-cpu", description: "runtime whose memory is predicted before/after" },
    batch: { type: "string", default: "1", description: "batch for the memory prediction" },
    json: { type: "boolean", description: "print the report as JSON" },
    force: { type: "boolean", description: "replace a read-only output file" },
    ...preprocessArgs,
  },
  async run({ args }) {
    const int = (name: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} ${v}: expected a positive integer`);
      return n;
    };
    const bits = int("bits", args.bits);
    if (bits !== 8 && bits !== 4) throw new UsageError(`--bits ${args.bits}: use 8 or 4`);
    if (args.mode !== undefined && args.mode !== "static" && args.mode !== "dynamic") throw new UsageError(`--mode ${args.mode}: use static or dynamic`);
    if (args.method !== "minmax" && args.method !== "percentile") throw new UsageError(`--method ${args.method}: use minmax or percentile`);
    const block = int("block-size", args["block-size"]);
    if (block !== 32 && block !== 128) throw new UsageError(`--block-size ${args["block-size"]}: use 32 or 128`);
    const percentile = args.percentile === undefined ? undefined : Number(args.percentile);
    if (percentile !== undefined && !(percentile > 50 && percentile <= 100)) throw new UsageError(`--percentile ${args.percentile}: expected a number in (50, 100]`);
    const out = args.output ?? defaultOutputPath(args.model, bits);
    const opts: QuantizeOptions = {
      bits,
      method: args.method,
      blockSize: block,
      reduceRange: args["reduce-range"] ?? false,
      runtime: args.runtime,
      batch: int("batch", args.batch) ?? 1,
      keepFloat: (args["keep-float"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
    };
    if (args.mode) opts.mode = args.mode as "static" | "dynamic";
    if (args.calibrate) opts.calibrate = args.calibrate;
    const cl = int("calibrate-limit", args["calibrate-limit"]);
    if (cl !== undefined) opts.calibrationLimit = cl;
    if (percentile !== undefined) opts.percentile = percentile;
    if (args.eval) opts.evaluate = args.eval;
    const el = int("eval-limit", args["eval-limit"]);
    if (el !== undefined) opts.evaluateLimit = el;
    const source = MemlensModel.load(args.model, preprocessOptions(args));
    const save = { force: args.force === true };
    try {
      // The output is checked before any work: a refusal costs nothing and writes nothing.
      source.checkSaveTarget(out, save);
      const quantized = await quantize(source, opts);
      const report = quantized.report;
      report.fileBytes.after = quantized.save(out, save);
      // Calibration and accuracy used the model's preprocessing: say so when part of it was assumed.
      if (opts.evaluate !== undefined || report.mode === "static") for (const w of source.warnings) printErr(`memlens: warning: ${w}\n`);
      if (args.json) printOut(JSON.stringify({ output: out, ...report }) + "\n");
      else printOut(render(out, report));
    } finally {
      await source.close();
    }
  },
});

/** Binary units, as every memlens report (src/report/format.ts). */
function mb(n: number | null): string {
  return n === null ? "n/a" : bytes(n);
}

function pct(a: number | null, b: number | null): string {
  return a && b !== null ? ` (${((100 * b) / a).toFixed(1)}%)` : "";
}

function render(out: string, r: QuantizeReport): string {
  const lines = [
    `wrote ${out}: int${r.bits} ${r.mode}${r.method ? ` (${r.method} calibration on ${r.calibrationImages} images)` : ""}`,
    `  file        ${mb(r.fileBytes.before)} -> ${mb(r.fileBytes.after)}${pct(r.fileBytes.before, r.fileBytes.after)}`,
    `  weights     ${mb(r.weightBytes.before)} -> ${mb(r.weightBytes.after)}${pct(r.weightBytes.before, r.weightBytes.after)}`,
    `  memory      ${mb(r.memory.before)} -> ${mb(r.memory.after)} predicted (${r.memory.runtime}, batch ${r.memory.batch})`,
    `  nodes       ${r.nodes.quantized} quantized, ${r.nodes.keptFloat.length} kept float`,
  ];
  if (r.accuracy) {
    const a = r.accuracy;
    lines.push(
      `  accuracy    ${(100 * a.before).toFixed(2)}% -> ${(100 * a.after).toFixed(2)}% on ${a.images} images (${(100 * (a.after - a.before)).toFixed(2)} points); top-1 agreement ${(100 * a.agreement).toFixed(2)}%`,
    );
  }
  // Layers kept float for the same reason are one line (int4 on a CNN keeps every Conv).
  const byReason = new Map<string, QuantizeReport["nodes"]["keptFloat"]>();
  for (const k of r.nodes.keptFloat) byReason.set(k.reason, [...(byReason.get(k.reason) ?? []), k]);
  for (const [reason, ks] of byReason) {
    if (ks.length <= 3) for (const k of ks) lines.push(`  float: ${k.name || "(unnamed)"} ${k.op}: ${reason}`);
    else lines.push(`  float: ${ks.length} layers (${[...new Set(ks.map((k) => k.op))].join(", ")}): ${reason}`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n") + "\n";
}
