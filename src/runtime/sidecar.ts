/**
 * The sidecar: a JSON file beside a model with its labels and preprocessing. `NAME.json` beside `NAME.onnx`
 * belongs to that model; a folder's `model.json` belongs to `model.onnx`, or to the one model its `"file"`
 * field names. So a folder with two models never gives one the other's labels (docs/preprocessing.md).
 * Optional; when it is there it must be well-formed, because a silently ignored mean/std gives wrong
 * predictions.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ModelFormatError } from "../errors.js";
import { parseJson } from "../formats/json.js";
import { readRegularFile } from "../formats/read-file.js";
import { MAX_IMAGE_PIXELS } from "./preprocess.js";

export interface PreprocessSpec {
  /** [height, width]. */
  size?: [number, number];
  channels?: number;
  layout?: "NCHW" | "NHWC";
  scale?: number;
  mean?: number[];
  std?: number[];
  /**
   * Resize-and-crop: an image of another size has its shorter side resized to size / crop, then its centre
   * cropped to the size (torchvision's Resize(256) + CenterCrop(224) is crop 0.875). Without it, an image of
   * another size is refused unless resizing (a stretch to the size) is asked for.
   */
  crop?: number;
  interpolation?: "bilinear" | "bicubic";
}

export interface Sidecar {
  file: string;
  /** The model file this sidecar names (`"file"`), when it names one. */
  model?: string;
  labels?: string[];
  preprocess?: PreprocessSpec;
  /** The accuracy the model's authors measured, when they wrote it down. */
  testAccuracy?: number;
}

/** The folder-wide sidecar name: it belongs to `model.onnx`, or to the model its "file" field names. */
export const FOLDER_SIDECAR = "model.json";
/** A sidecar is a few kB (ImageNet's 1,000 labels about 20 kB); refuse anything large before parsing it. */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

/** `NAME.json` for `NAME.onnx` (any extension). */
export function sidecarPathFor(modelPath: string): string {
  const name = basename(modelPath).replace(/\.[^.]*$/, "");
  return join(dirname(modelPath), `${name}.json`);
}

/**
 * The sidecar of this model: `NAME.json`, else the folder's `model.json` when its "file" names this model.
 * `other` is set when a `model.json` is there but belongs to another model (so a warning can say why it was not used).
 */
export function findSidecar(modelPath: string): { sidecar?: Sidecar; other?: string } {
  const own = sidecarPathFor(modelPath);
  if (existsSync(own)) {
    const s = readSidecarFile(own);
    if (s.model === undefined || s.model === basename(modelPath)) return { sidecar: s };
    return { other: `${basename(own)} names ${s.model}` };
  }
  const folder = join(dirname(modelPath), FOLDER_SIDECAR);
  if (!existsSync(folder)) return {};
  const s = readSidecarFile(folder);
  if (s.model === basename(modelPath)) return { sidecar: s };
  return { other: `${FOLDER_SIDECAR} in its folder is for ${s.model ?? "model.onnx"}` };
}

/** The sidecar files a model's run may read (`NAME.json`, the folder's `model.json`): an output may be neither. */
export function sidecarCandidates(modelPath: string): string[] {
  return [sidecarPathFor(modelPath), join(dirname(modelPath), FOLDER_SIDECAR)];
}

/** The sidecar that belongs to this model, or undefined. */
export function readSidecar(modelPath: string): Sidecar | undefined {
  return findSidecar(modelPath).sidecar;
}

export function readSidecarFile(file: string): Sidecar {
  let text: Uint8Array;
  try {
    text = readRegularFile(file, MAX_SIDECAR_BYTES, "sidecar");
  } catch (e) {
    throw new ModelFormatError((e as Error).message);
  }
  const json = parseJson(new TextDecoder().decode(text), file);
  return parseSidecar(json, file);
}

export function parseSidecar(json: unknown, file: string): Sidecar {
  const bad = (what: string): never => {
    throw new ModelFormatError(`${file}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) bad("expected a JSON object");
  const o = json as Record<string, unknown>;
  const out: Sidecar = { file };
  if (o["file"] !== undefined) {
    if (typeof o["file"] !== "string" || o["file"] === "" || /[/\\]/.test(o["file"])) bad("'file' must be the model's file name in this folder");
    out.model = o["file"] as string;
  }
  if (o["labels"] !== undefined) out.labels = parseLabels(o["labels"], `${file}: 'labels'`);
  if (typeof o["test_accuracy_fp32"] === "number") out.testAccuracy = o["test_accuracy_fp32"];
  if (o["preprocess"] !== undefined) out.preprocess = parsePreprocess(o["preprocess"], `${file}: 'preprocess`);
  return out;
}

export function parseLabels(l: unknown, what: string): string[] {
  if (!Array.isArray(l) || !l.every((x) => typeof x === "string")) throw new ModelFormatError(`${what} must be an array of strings`);
  return l as string[];
}

/** A `preprocess` object (sidecar or metadata_props); `what` prefixes each field's name in errors. */
export function parsePreprocess(p: unknown, what: string): PreprocessSpec {
  const bad = (field: string, rule: string): never => {
    throw new ModelFormatError(`${what}${field}' must ${rule}`);
  };
  if (p === null || typeof p !== "object" || Array.isArray(p)) bad("", "be an object");
  const q = p as Record<string, unknown>;
  const spec: PreprocessSpec = {};
  if (q["size"] !== undefined) {
    const s = q["size"];
    if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => Number.isInteger(x) && x > 0 && x <= 65536)) bad(".size", "be [height, width]");
    if ((s as number[])[0]! * (s as number[])[1]! > MAX_IMAGE_PIXELS) bad(".size", `be at most ${MAX_IMAGE_PIXELS / 2 ** 20} Mpixel (height x width)`);
    spec.size = [(s as number[])[0]!, (s as number[])[1]!];
  }
  if (q["channels"] !== undefined) {
    if (q["channels"] !== 1 && q["channels"] !== 3) bad(".channels", "be 1 or 3");
    spec.channels = q["channels"] as number;
  }
  if (q["layout"] !== undefined) {
    if (q["layout"] !== "NCHW" && q["layout"] !== "NHWC") bad(".layout", "be NCHW or NHWC");
    spec.layout = q["layout"] as "NCHW" | "NHWC";
  }
  if (q["scale"] !== undefined) {
    if (typeof q["scale"] !== "number" || !Number.isFinite(q["scale"]) || q["scale"] === 0) bad(".scale", "be a non-zero number");
    spec.scale = q["scale"] as number;
  }
  for (const k of ["mean", "std"] as const) {
    const v = q[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isFinite(x))) bad(`.${k}`, "be an array of numbers");
    if (k === "std" && (v as number[]).some((x) => x === 0)) bad(".std", "not contain 0");
    spec[k] = v as number[];
  }
  if (q["crop"] !== undefined) {
    const c = q["crop"];
    if (typeof c !== "number" || !(c > 0 && c <= 1)) bad(".crop", "be a fraction in (0, 1]");
    spec.crop = c as number;
  }
  if (q["interpolation"] !== undefined) {
    if (q["interpolation"] !== "bilinear" && q["interpolation"] !== "bicubic") bad(".interpolation", "be bilinear or bicubic");
    spec.interpolation = q["interpolation"] as "bilinear" | "bicubic";
  }
  return spec;
}
