/**
 * analyze for LLMs given as a hub folder, config.json, safetensors or GGUF (no ONNX graph): the one pipeline
 * (pipeline/estimate.ts) with the CLI's settings; a GGUF runs on llama.cpp unless --runtime says otherwise. Same
 * Report, same renderers, same JSON contract as ONNX models.
 */
import { llmInputFiles } from "../llm/source.js";
import { estimate, onLlamaCpp } from "../pipeline/estimate.js";
import { eagerSource, type ModelSource } from "../pipeline/source.js";
import { openSource } from "../pipeline/source-node.js";
import { renderExplanation } from "../report/explain.js";
import { UsageError } from "../errors.js";
import { cliSettings } from "./options.js";
import { printOut } from "./print.js";
import { checkReportFiles, reportFiles, writeReportFiles } from "./report-files.js";

export async function analyzeLlmCli(path: string, args: Record<string, unknown>, rawArgs: readonly string[]): Promise<void> {
  const files = reportFiles(args, rawArgs, llmInputFiles(path));
  checkReportFiles(files);
  const opened = openSource(path, true);
  if (opened.kind === "onnx") throw new Error("unreachable: an LLM path opened as ONNX");
  const settings = cliSettings(args, rawArgs);
  let source: ModelSource;
  let notes: string[] = [];
  const gguf = onLlamaCpp(opened, settings);
  if (gguf) source = gguf;
  else {
    const eager = eagerSource(opened);
    const eos = eosOf(args, eager.llm.arch.eos);
    source = { ...eager, llm: { ...eager.llm, arch: { ...eager.llm.arch, eos } } };
    notes = generateNotes(settings, eos);
  }
  // The architecture and llama.cpp pipelines never load the ONNX shape engine.
  const report = estimate(source, settings);
  report.warnings.unshift(...notes);
  printOut(args["json"] && files.json === undefined ? JSON.stringify(report) + "\n" : renderExplanation(report));
  // The batch/context sweeps are inference estimates: a training report is written without them.
  await writeReportFiles(files, report, async () => (settings.mode === "train" ? report : (await import("../pipeline/sweep.js")).withCharts(report, source, settings)));
}

/**
 * --eos ID[,ID...]|none: the eos tokens generate uses, over config.json's eos_token_id. Only whether there is
 * one changes memory: transformers adds the min-length processors only with an eos token
 * (_get_logits_processor: `generation_config._eos_token_tensor is not None`).
 */
export function eosOf(args: Record<string, unknown>, fromConfig: boolean): boolean {
  const v = args["eos"];
  if (typeof v !== "string" || v === "") return fromConfig;
  if (String(args["mode"] ?? "inference") !== "generate") throw new UsageError("--eos: only for --mode generate");
  if (v !== "none" && !/^\d+(,\d+)*$/.test(v)) throw new UsageError(`--eos ${v}: expected token ids ID[,ID...] or none`);
  return v !== "none";
}

/** What generate's settings leave to the user: stated, never silent. */
function generateNotes(s: { mode?: string; newTokens?: number; minNewTokens?: number }, eos: boolean): string[] {
  if (s.mode !== "generate") return [];
  const n = s.newTokens ?? 128;
  const min = s.minNewTokens ?? 0;
  const out: string[] = [];
  if (min > 0 && !eos) out.push(`--min-new-tokens ${min} runs no logits processor: the model has no eos token (transformers adds MinNewTokensLengthLogitsProcessor only with one); give --eos ID`);
  if (min > n) out.push(`--min-new-tokens ${min} is more than --new-tokens ${n}: transformers warns of unfeasible length constraints and stops at ${n}`);
  if (min < n && eos) out.push(`the estimate assumes all ${n} new tokens are generated: an eos token can end generation earlier (--min-new-tokens ${n} forces them, as measured runs do)`);
  return out;
}
