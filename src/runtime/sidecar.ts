/**
 * `model.json` next to a model: labels and preprocessing (the bundled model's format). Optional; when it
 * is there it must be well-formed, because a silently ignored mean/std gives wrong predictions.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ModelFormatError } from "../errors.js";

export interface PreprocessSpec {
  /** [height, width]. */
  size?: [number, number];
  channels?: number;
  layout?: "NCHW" | "NHWC";
  scale?: number;
  mean?: number[];
  std?: number[];
}

export interface Sidecar {
  file: string;
  labels?: string[];
  preprocess?: PreprocessSpec;
  /** The accuracy the model's authors measured, when they wrote it down. */
  testAccuracy?: number;
}

export const SIDECAR_NAME = "model.json";
/** A sidecar is a few kB; refuse anything large before parsing it. */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

export function readSidecar(modelPath: string): Sidecar | undefined {
  const file = join(dirname(modelPath), SIDECAR_NAME);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file);
  if (text.length > MAX_SIDECAR_BYTES) throw new ModelFormatError(`${file}: larger than ${MAX_SIDECAR_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text.toString("utf8"));
  } catch (e) {
    throw new ModelFormatError(`${file}: not JSON: ${(e as Error).message}`);
  }
  return parseSidecar(json, file);
}

export function parseSidecar(json: unknown, file: string): Sidecar {
  const bad = (what: string): never => {
    throw new ModelFormatError(`${file}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) bad("expected a JSON object");
  const o = json as Record<string, unknown>;
  const out: Sidecar = { file };
  if (o["labels"] !== undefined) {
    const l = o["labels"];
    if (!Array.isArray(l) || !l.every((x) => typeof x === "string")) bad("'labels' must be an array of strings");
    out.labels = l as string[];
  }
  if (typeof o["test_accuracy_fp32"] === "number") out.testAccuracy = o["test_accuracy_fp32"];
  const p = o["preprocess"];
  if (p !== undefined) {
    if (p === null || typeof p !== "object") bad("'preprocess' must be an object");
    const q = p as Record<string, unknown>;
    const spec: PreprocessSpec = {};
    if (q["size"] !== undefined) {
      const s = q["size"];
      if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => Number.isInteger(x) && x > 0)) bad("'preprocess.size' must be [height, width]");
      spec.size = [(s as number[])[0]!, (s as number[])[1]!];
    }
    if (q["channels"] !== undefined) {
      if (q["channels"] !== 1 && q["channels"] !== 3) bad("'preprocess.channels' must be 1 or 3");
      spec.channels = q["channels"] as number;
    }
    if (q["layout"] !== undefined) {
      if (q["layout"] !== "NCHW" && q["layout"] !== "NHWC") bad("'preprocess.layout' must be NCHW or NHWC");
      spec.layout = q["layout"] as "NCHW" | "NHWC";
    }
    if (q["scale"] !== undefined) {
      if (typeof q["scale"] !== "number" || !Number.isFinite(q["scale"])) bad("'preprocess.scale' must be a number");
      spec.scale = q["scale"] as number;
    }
    for (const k of ["mean", "std"] as const) {
      const v = q[k];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isFinite(x))) bad(`'preprocess.${k}' must be an array of numbers`);
      if (k === "std" && (v as number[]).some((x) => x === 0)) bad("'preprocess.std' must not contain 0");
      spec[k] = v as number[];
    }
    out.preprocess = spec;
  }
  return out;
}
