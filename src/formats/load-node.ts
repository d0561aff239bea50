/** Opening a model from disk (Node only): the file source, and external data confined to the model's folder. */
import { realpathSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { MemlensError, ModelFormatError } from "../errors.js";
import type { Model, Tensor } from "../graph/ir.js";
import { graphWeights } from "../graph/weights.js";
import { openModel } from "./index.js";
import { quote } from "./quote.js";
import { checkExternalLocation } from "./onnx/read-tensor.js";
import type { ExternalOpener } from "./onnx/values.js";
import { FileSource, ReopeningFileSource } from "./source-node.js";

export interface LoadedModel {
  model: Model;
  source: FileSource;
  path: string;
  openExternal: ExternalOpener;
}

export function loadModelFile(path: string): LoadedModel {
  let source: FileSource;
  try {
    source = new FileSource(path, "model");
  } catch (e) {
    if (e instanceof MemlensError) throw new ModelFormatError(e.message);
    throw new ModelFormatError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const model = openModel(source, source.name);
    const openExternal = externalOpener(path);
    // Check every external location now (symlinks included), so a hostile model is refused at load: the
    // bodies of If/Loop/Scan and Constant nodes too, since onnxruntime reads theirs as well.
    for (const [location, t] of externalLocations(model)) resolveExternal(path, location, t.name, false);
    return { model, source, path, openExternal };
  } catch (e) {
    source.close();
    if (e instanceof ModelFormatError) throw new ModelFormatError(`${path}: ${e.message}`);
    if (e instanceof MemlensError) throw e;
    if (e instanceof RangeError) throw new ModelFormatError(`${path}: truncated or corrupt: ${e.message}`);
    throw e;
  }
}

/** Each external data location of the model (every graph, bodies and Constant nodes included), with its first tensor. */
function externalLocations(model: Model): Map<string, Tensor> {
  // Each location once: exporters put hundreds of tensors in one file.
  const out = new Map<string, Tensor>();
  for (const w of graphWeights(model.graph)) {
    const t = w.tensor;
    if (t?.data.kind === "external" && !out.has(t.data.location)) out.set(t.data.location, t);
  }
  return out;
}

/** The files a model is read from: the model file and its external data files (for output checks). */
export function modelFiles(path: string, model: Model): string[] {
  const folder = dirname(resolve(path));
  return [path, ...[...externalLocations(model).keys()].map((location) => resolve(folder, location))];
}

/** The absolute path of an external data file, refused when it resolves outside the model's folder. */
export function resolveExternal(modelPath: string, location: string, tensor: string, mustExist: boolean): string | undefined {
  checkExternalLocation(tensor, location);
  const folder = realpathSync(dirname(resolve(modelPath)));
  const target = resolve(folder, location);
  if (!target.startsWith(folder + sep)) {
    throw new ModelFormatError(`tensor ${quote(tensor)}: external data location ${quote(location)} escapes the model's folder`);
  }
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    if (mustExist) throw new ModelFormatError(`tensor ${quote(tensor)}: external data file ${quote(location)} is missing`);
    return undefined;
  }
  if (!real.startsWith(folder + sep)) {
    throw new ModelFormatError(`tensor ${quote(tensor)}: external data ${quote(location)} is a link out of the model's folder`);
  }
  // Opened and checked with fstat (read-file.ts): a FIFO or a device is refused here, without blocking.
  try {
    new FileSource(real, "external data").close();
  } catch (e) {
    if (e instanceof MemlensError) throw new ModelFormatError(`tensor ${quote(tensor)}: ${e.message}`);
    throw e;
  }
  return real;
}

/** External files by location, checked once; each read opens and closes its file (no descriptor is held). */
function externalOpener(modelPath: string): ExternalOpener {
  const sources = new Map<string, ReopeningFileSource>();
  return (location) => {
    let s = sources.get(location);
    if (!s) {
      const real = resolveExternal(modelPath, location, location, true)!;
      try {
        s = new ReopeningFileSource(real);
      } catch (e) {
        throw new ModelFormatError(`external data ${quote(location)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      sources.set(location, s);
    }
    return s;
  };
}
