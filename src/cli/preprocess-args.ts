/**
 * Preprocessing on the command line (predict, profile, quantize's --calibrate/--eval): a preset and values that
 * override it, and a labels file. They win over the sidecar and the file's metadata (src/runtime/preprocessing.ts).
 */
import { readRegularText } from "../formats/read-file.js";
import { InputError, UsageError } from "../errors.js";
import type { LoadModelOptions } from "../runtime/model.js";
import { PRESET_NAMES, type ExplicitPreprocessing, type PresetName } from "../runtime/preprocessing.js";
import { parseLabels } from "../runtime/sidecar.js";

export const preprocessArgs = {
  preprocess: { type: "string", description: `preset: ${PRESET_NAMES.join("|")} (imagenet: torchvision's mean/std, resize 256 + centre crop 224; clip: OpenAI CLIP's; none: raw 0-255 pixels)` },
  size: { type: "string", description: "image size HxW, for inputs whose size is symbolic" },
  mean: { type: "string", description: "per-channel mean, comma list (after --scale), e.g. 0.485,0.456,0.406" },
  std: { type: "string", description: "per-channel std, comma list, e.g. 0.229,0.224,0.225" },
  scale: { type: "string", description: "pixel scale before mean/std, e.g. 1/255 or 1" },
  layout: { type: "string", description: "NCHW|NHWC (default: from the input's shape)" },
  labels: { type: "string", description: "class names: a text file (one per line) or a JSON array" },
} as const;

type PreprocessArgValues = { [K in keyof typeof preprocessArgs]?: string | undefined };

/** A labels file is a few kB; ImageNet's 1,000 names are about 20 kB. */
const MAX_LABELS_BYTES = 4 * 1024 * 1024;

/** loadModel options from the flags (messages say a value came from the "command line"). */
export function preprocessOptions(args: PreprocessArgValues): Pick<LoadModelOptions, "preprocess" | "labels" | "statedBy"> {
  const p: ExplicitPreprocessing = {};
  const used: string[] = [];
  if (args.preprocess !== undefined) {
    if (!(PRESET_NAMES as string[]).includes(args.preprocess)) throw new UsageError(`--preprocess ${args.preprocess}: use ${PRESET_NAMES.join(", ")}`);
    p.preset = args.preprocess as PresetName;
  }
  if (args.size !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(args.size);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > 65536 || Number(m[2]) > 65536) throw new UsageError(`--size ${args.size}: expected HxW, e.g. 224x224`);
    p.size = [Number(m[1]), Number(m[2])];
    used.push("--size");
  }
  for (const k of ["mean", "std"] as const) {
    const v = args[k];
    if (v === undefined) continue;
    const xs = v.split(",").map((s) => s.trim());
    if (xs.length === 0 || xs.some((s) => s === "" || !Number.isFinite(Number(s)))) throw new UsageError(`--${k} ${v}: expected numbers separated by commas`);
    const nums = xs.map(Number);
    if (k === "std" && nums.some((x) => x === 0)) throw new UsageError(`--std ${v}: must not contain 0`);
    p[k] = nums;
    used.push(`--${k}`);
  }
  if (args.scale !== undefined) {
    const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+))?\s*$/.exec(args.scale);
    const value = m ? Number(m[1]) / (m[2] !== undefined ? Number(m[2]) : 1) : NaN;
    if (!Number.isFinite(value) || value === 0) throw new UsageError(`--scale ${args.scale}: expected a non-zero number or a fraction such as 1/255`);
    p.scale = value;
    used.push("--scale");
  }
  if (args.layout !== undefined) {
    const l = args.layout.toUpperCase();
    if (l !== "NCHW" && l !== "NHWC") throw new UsageError(`--layout ${args.layout}: use NCHW or NHWC`);
    p.layout = l;
    used.push("--layout");
  }
  const out: Pick<LoadModelOptions, "preprocess" | "labels" | "statedBy"> = {};
  if (Object.keys(p).length > 0) out.preprocess = p;
  if (args.labels !== undefined) {
    out.labels = readLabels(args.labels);
    used.push("--labels");
  }
  if (used.length > 0) out.statedBy = "command line";
  return out;
}

/** One label per line (blank lines at the end ignored), or a JSON array of strings. */
export function readLabels(file: string): string[] {
  let text: string;
  try {
    text = readRegularText(file, MAX_LABELS_BYTES, "--labels file");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`--labels ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.trimStart().startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new InputError(`--labels ${file}: not JSON: ${(e as Error).message}`);
    }
    return parseLabels(json, `--labels ${file}`);
  }
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  if (lines.length === 0) throw new InputError(`--labels ${file}: no labels`);
  return lines.map((l) => l.trim());
}
