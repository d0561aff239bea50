/**
 * Writing a model file safely: never over its input, never half-written. The bytes go to a temporary
 * file in the destination folder (same filesystem), are flushed, and the file is renamed into place.
 * Weights stream from their sources slice by slice: the output is never whole in memory.
 */
import { closeSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { Model } from "../graph/ir.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import { encodeModelParts, readParts } from "../formats/onnx/writer.js";

/** `model.onnx` -> `model.int8.onnx` (or `.int4`), next to the input. */
export function defaultOutputPath(input: string, bits: number): string {
  const base = basename(input).replace(/\.onnx$/i, "");
  return join(dirname(input), `${base}.int${bits}.onnx`);
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

/**
 * Write `model` to `out` atomically; returns the bytes written. `input` is the file the model was read or
 * derived from: never written over, and its folder is where external weights are.
 */
export function saveModel(model: Model, out: string, input: string | undefined, openExternal?: ExternalOpener): number {
  if (input !== undefined && samePath(out, input)) throw new UsageError(`-o ${out}: that is the input model; choose another file`);
  const hasExternal = [...model.graph.initializers.values()].some((t) => t.data.kind === "external");
  // External weights are referenced by paths relative to the model: keep them only beside the input.
  const sameFolder = input !== undefined && samePath(dirname(resolve(out)), dirname(resolve(input)));
  const { parts, size } = encodeModelParts(model, hasExternal && !sameFolder && openExternal ? { externalData: "embed", openExternal } : {});
  if (hasExternal && !sameFolder && !openExternal) throw new UsageError(`-o ${out}: the model's external weights need the output beside the input`);
  const tmp = join(dirname(resolve(out)), `.${basename(out)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "wx");
  try {
    let written = 0;
    for (const chunk of readParts(parts)) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      written += chunk.length;
    }
    if (written !== size) throw new Error(`wrote ${written} bytes, expected ${size}`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
    return size;
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
