/**
 * Writing a model file safely: never over its input, never half-written. The bytes go to a temporary
 * file in the destination folder (same filesystem), are flushed, and the file is renamed into place.
 * Weights stream from their sources slice by slice: the output is never whole in memory.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { Model } from "../graph/ir.js";
import { graphWeights } from "../graph/weights.js";
import { modelFiles } from "../formats/load-node.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import { encodeModelParts, readParts } from "../formats/onnx/writer.js";
import { checkOutput, writeOutput, type OutputOptions } from "../formats/write-node.js";
import { sidecarCandidates } from "../runtime/sidecar.js";

/** `model.onnx` -> `model.int8.onnx` (or `.int4`), next to the input. */
export function defaultOutputPath(input: string, bits: number): string {
  const base = basename(input).replace(/\.onnx$/i, "");
  return join(dirname(input), `${base}.int${bits}.onnx`);
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

export interface SaveOptions {
  /** Every file the model was read from (default: `input`, its external data and sidecars). */
  inputs?: readonly string[];
  /** Replace a read-only target. */
  force?: boolean;
  /** How the target was named, for messages (default "-o"). */
  flag?: string;
}

/** The files an ONNX model's run reads: the model, its external data, its sidecars. No output may be one of them. */
export function onnxInputFiles(path: string, model: Model): string[] {
  return [...modelFiles(path, model), ...sidecarCandidates(path)];
}

function outputOptions(model: Model, input: string | undefined, opts: SaveOptions): OutputOptions {
  const inputs = opts.inputs ?? (input !== undefined ? onnxInputFiles(input, model) : []);
  return { flag: opts.flag ?? "-o", inputs, ...(opts.force ? { force: true } : {}) };
}

/** Refuse `out` now, before any work, for the reasons saveModel would (see src/formats/write-node.ts). */
export function checkSaveTarget(out: string, model: Model, input: string | undefined, opts: SaveOptions = {}): void {
  checkOutput(out, outputOptions(model, input, opts));
}

/**
 * Write `model` to `out` atomically; returns the bytes written. `input` is the file the model was read or
 * derived from: never written over (nor any file it reads), and its folder is where external weights are.
 */
export function saveModel(model: Model, out: string, input: string | undefined, openExternal?: ExternalOpener, opts: SaveOptions = {}): number {
  const output = outputOptions(model, input, opts);
  checkOutput(out, output);
  const hasExternal = graphWeights(model.graph).some((w) => w.tensor?.data.kind === "external");
  // External weights are referenced by paths relative to the model: keep them only beside the input;
  // elsewhere they are embedded, so no reference dangles.
  const sameFolder = input !== undefined && samePath(dirname(resolve(out)), dirname(resolve(input)));
  if (hasExternal && !sameFolder && !openExternal) throw new UsageError(`${output.flag} ${out}: the model's external weights need the output beside the input`);
  const { parts, size } = encodeModelParts(model, hasExternal && !sameFolder && openExternal ? { externalData: "embed", openExternal } : {});
  return writeOutput(out, readParts(parts), output, size);
}
