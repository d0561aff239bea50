/**
 * Where a model's preprocessing and labels come from, first found wins, value by value (docs/preprocessing.md):
 *   1. explicit options: loadModel's `preprocess` / `labels`, the CLI's --preprocess, --size, --mean, ...;
 *   2. the sidecar beside the file (`NAME.json`, or the folder's `model.json` that names this model);
 *   3. the model file's metadata_props, under `memlens.preprocess` and `memlens.labels` (memlens writes them
 *      into every model it saves, so a copy written elsewhere keeps them);
 *   4. the input's shape (layout, size) and the defaults scale 1/255, mean 0, std 1, with one warning that
 *      names every assumed value and how to state it.
 */
import { ModelFormatError, UsageError } from "../errors.js";
import { parseJson } from "../formats/json.js";
import { layoutFromShape, type InputDescription } from "./preprocess.js";
import { findSidecar, parseLabels, parsePreprocess, type PreprocessSpec, type Sidecar } from "./sidecar.js";

/** metadata_props keys: a JSON object like a sidecar's "preprocess", and a JSON array of class names. */
export const META_PREPROCESS = "memlens.preprocess";
export const META_LABELS = "memlens.labels";

/**
 * Published preprocessing of the two families most exported classifiers come from.
 * - imagenet: torchvision's ImageNet weights (torchvision/transforms/_presets.py, ImageClassification: resize the
 *   shorter side to 256, centre-crop 224, bilinear, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), on
 *   pixels scaled to [0, 1]); timm's IMAGENET_DEFAULT_MEAN/STD are the same numbers.
 * - clip: OpenAI CLIP (clip/clip.py, _transform(n_px): Resize(n_px, BICUBIC), CenterCrop(n_px), Normalize with
 *   mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711)), n_px 224 for ViT-B.
 * - none: the pixel values as they are (0..255), no normalisation.
 * The size applies only where the model's input leaves it symbolic; a fixed input size always wins.
 */
export const PRESETS = {
  imagenet: { size: [224, 224], scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop: 224 / 256, interpolation: "bilinear" },
  clip: { size: [224, 224], scale: 1 / 255, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], crop: 1, interpolation: "bicubic" },
  none: { scale: 1, mean: [0], std: [1] },
} as const satisfies Record<string, PreprocessSpec>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** What a caller states explicitly: a preset, and values that override it. */
export interface ExplicitPreprocessing extends PreprocessSpec {
  preset?: PresetName;
}

type Field = "size" | "layout" | "scale" | "mean" | "std" | "crop" | "interpolation";
const FIELDS: Field[] = ["size", "layout", "scale", "mean", "std", "crop", "interpolation"];
/** Values whose absence is an assumption worth a warning (size and crop have safe absences: the input's size, refuse). */
const ASSUMABLE = ["scale", "mean", "std"] as const;

export interface ResolvedPreprocessing {
  /** Every value stated by a source (options, sidecar or metadata); absent ones are assumed. */
  spec: PreprocessSpec;
  labels?: string[];
  /** Where each stated value (and the labels) came from, in words: "--preprocess imagenet", "model.json", ... */
  origin: Partial<Record<Field | "labels", string>>;
  sidecar?: Sidecar;
  /** A sidecar in the folder that belongs to another model, and so was not used. */
  otherSidecar?: string;
  /** A preset's size: used only where the model's input leaves the size symbolic. */
  fallbackSize?: [number, number];
}

export interface PreprocessingSources {
  explicit?: ExplicitPreprocessing;
  explicitLabels?: string[];
  /** Names the explicit values in messages (default "options"; the CLI passes its flags). */
  explicitName?: string;
  modelPath?: string;
  metadata?: Record<string, string>;
}

export function resolvePreprocessing(src: PreprocessingSources): ResolvedPreprocessing {
  const found = src.modelPath ? findSidecar(src.modelPath) : {};
  const meta = fromMetadata(src.metadata ?? {});
  const { preset, ...explicit } = src.explicit ?? {};
  if (preset !== undefined && !(preset in PRESETS)) throw new UsageError(`--preprocess ${String(preset)}: use ${PRESET_NAMES.join(", ")}`);
  const layers: [string, PreprocessSpec | undefined, string[] | undefined][] = [
    [src.explicitName ?? "options", explicit, src.explicitLabels],
    ...(preset ? [[`--preprocess ${preset}`, presetValues(preset), undefined] as [string, PreprocessSpec, undefined]] : []),
    [found.sidecar ? baseName(found.sidecar.file) : "sidecar", found.sidecar?.preprocess, found.sidecar?.labels],
    ["metadata_props", meta.preprocess, meta.labels],
  ];
  const spec: PreprocessSpec = {};
  const origin: ResolvedPreprocessing["origin"] = {};
  for (const [name, values] of layers) {
    if (!values) continue;
    for (const f of FIELDS) {
      if (spec[f] !== undefined || values[f] === undefined) continue;
      (spec as Record<Field, unknown>)[f] = values[f];
      origin[f] = name;
    }
    if (spec.channels === undefined && values.channels !== undefined) spec.channels = values.channels;
  }
  const out: ResolvedPreprocessing = { spec, origin };
  const presetSize = preset ? (PRESETS[preset] as PreprocessSpec).size : undefined;
  if (presetSize) out.fallbackSize = presetSize;
  const labelled = layers.find(([, , l]) => l !== undefined);
  if (labelled) {
    out.labels = labelled[2]!;
    origin.labels = labelled[0];
  }
  if (found.sidecar) out.sidecar = found.sidecar;
  if (found.other) out.otherSidecar = found.other;
  return out;
}

/** A preset's values except its size, which only fills a symbolic input size (fallbackSize). */
function presetValues(name: PresetName): PreprocessSpec {
  const { size: _size, ...rest } = PRESETS[name] as PreprocessSpec;
  return { ...rest, ...(rest.mean ? { mean: [...rest.mean] } : {}), ...(rest.std ? { std: [...rest.std] } : {}) };
}

function fromMetadata(md: Record<string, string>): { preprocess?: PreprocessSpec; labels?: string[] } {
  const out: { preprocess?: PreprocessSpec; labels?: string[] } = {};
  const json = (key: string): unknown => {
    return parseJson(md[key]!, `metadata_props '${key}'`);
  };
  if (md[META_PREPROCESS] !== undefined) out.preprocess = parsePreprocess(json(META_PREPROCESS), `metadata_props '${META_PREPROCESS}`);
  if (md[META_LABELS] !== undefined) out.labels = parseLabels(json(META_LABELS), `metadata_props '${META_LABELS}'`);
  return out;
}

/** The metadata_props a saved model carries: what was stated, never what was assumed. */
export function metadataFor(r: ResolvedPreprocessing): Record<string, string> {
  const md: Record<string, string> = {};
  const stated = Object.fromEntries(Object.entries(r.spec).filter(([, v]) => v !== undefined));
  if (Object.keys(stated).length > 0) md[META_PREPROCESS] = JSON.stringify(stated);
  if (r.labels) md[META_LABELS] = JSON.stringify(r.labels);
  return md;
}

/**
 * The one warning for values no source stated (undefined when every one was): each assumed value, and how to
 * state it. The layout read from the input's shape is an assumption only where the shape is ambiguous
 * ([N, 3, H, 3]); it is named with the rest whenever there is a warning.
 */
export function assumptionWarning(r: ResolvedPreprocessing, file: string, input: InputDescription): string | undefined {
  const assumed: string[] = [];
  const defaults: Record<(typeof ASSUMABLE)[number], string> = { scale: "scale 1/255", mean: "mean 0", std: "std 1" };
  const shape = input.shape ?? [];
  const fromShape = r.spec.layout === undefined ? layoutFromShape(shape) : undefined;
  let trigger = fromShape?.ambiguous === true;
  if (fromShape) assumed.push(`layout ${fromShape.layout} (from the input's shape [${shape.join(", ")}]${fromShape.ambiguous ? ", which could be either" : ""})`);
  for (const f of ASSUMABLE) {
    if (r.spec[f] !== undefined) continue;
    assumed.push(defaults[f]);
    trigger = true;
  }
  if (!r.labels) {
    assumed.push("no labels (classes print as indices)");
    trigger = true;
  }
  if (!trigger) return undefined;
  const nothing = Object.keys(r.origin).length === 0;
  const why = nothing
    ? `no preprocessing recorded for ${file} (no sidecar${r.otherSidecar ? `: ${r.otherSidecar}` : ""}, no memlens metadata)`
    : `${file}: part of the preprocessing is not recorded`;
  return `${why}: assumed ${assumed.join(", ")}; state it with --preprocess ${PRESET_NAMES.join("|")}, --size HxW, --mean, --std, --scale, --layout, --labels FILE, or a ${sidecarName(file)} sidecar (docs/preprocessing.md)`;
}

function baseName(p: string): string {
  return p.split(/[/\\]/).at(-1) ?? p;
}

function sidecarName(file: string): string {
  return `${baseName(file).replace(/\.[^.]*$/, "")}.json`;
}
