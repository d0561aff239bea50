/**
 * Decoding images with sharp (PNG, JPEG, WebP) and fitting them to a model's image spec. Decoding keeps
 * the pixels as they are; size and channel changes happen only when the caller asks (resize/convert),
 * otherwise an image that does not fit is an InputError naming the difference.
 */
import { basename } from "node:path";
import { InputError, MemlensError } from "../errors.js";
import { readRegularFile } from "../formats/read-file.js";
import { cropGeometry, mismatch, type ImageSpec, type Pixels, type PreprocessOptions } from "./preprocess.js";

export interface LoadedImage extends Pixels {
  /** The file name (or `<bytes>`), used in messages and in predictions. */
  file: string;
  /** The caller's preprocessing overrides, applied when the image meets a model. */
  options: PreprocessOptions;
}

/** Anything that can say what image it takes: a loaded model. */
export interface TakesImages {
  imageSpec(opts?: PreprocessOptions): ImageSpec;
}

export interface LoadImageOptions extends PreprocessOptions {
  /** Fit the image to this model now (errors surface at load, not at predict). */
  model?: TakesImages;
}

const FORMATS = new Set(["png", "jpeg", "webp"]);
export { MAX_IMAGE_PIXELS } from "./preprocess.js";
import { MAX_IMAGE_PIXELS } from "./preprocess.js";
/** An image file over this is refused before it is read: a 64-Mpixel RGB PNG stored uncompressed is 192 MiB. */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

type SharpFactory = typeof import("sharp").default;
let sharpPromise: Promise<SharpFactory> | undefined;
function loadSharp(): Promise<SharpFactory> {
  sharpPromise ??= import("sharp").then((m) => m.default);
  return sharpPromise;
}

export async function loadImage(source: string | Uint8Array, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const { model, ...options } = opts;
  const file = typeof source === "string" ? basename(source) : "<bytes>";
  let bytes: Uint8Array;
  try {
    bytes = typeof source === "string" ? readRegularFile(source, MAX_IMAGE_FILE_BYTES, "image") : source;
  } catch (e) {
    if (e instanceof MemlensError) throw e;
    throw new InputError(`cannot read image ${source as string}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const pixels = await decode(bytes, file);
  const image: LoadedImage = { ...pixels, file, options };
  if (!model) return image;
  const fitted = await fitImage(image, model.imageSpec(options));
  return { ...fitted, file, options };
}

/** Raw pixels (HWC, 8-bit) as an image, e.g. from a dataset file; no decoding. */
export function imageFromPixels(data: Uint8Array, width: number, height: number, channels: 1 | 3, file = "<pixels>", options: PreprocessOptions = {}): LoadedImage {
  if (data.length !== width * height * channels) {
    throw new InputError(`${file}: ${data.length} bytes for a ${width}x${height}x${channels} image`);
  }
  return { data, width, height, channels, file, options };
}

async function decode(bytes: Uint8Array, file: string): Promise<Pixels> {
  const sharp = await loadSharp();
  try {
    const img = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "error" });
    const meta = await img.metadata();
    if (!meta.format || !FORMATS.has(meta.format)) {
      throw new InputError(`${file}: ${meta.format ?? "unknown"} images are not supported (PNG, JPEG or WebP)`);
    }
    // Gray stays one channel (and RGB three); alpha is dropped: models take colour, not transparency.
    const gray = meta.channels === 1 || meta.channels === 2 || meta.space === "b-w";
    const pipeline = gray ? img.removeAlpha().toColourspace("b-w") : img.removeAlpha().toColourspace("srgb");
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) throw new InputError(`${file}: ${info.channels} channels after decoding`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${file}: not a readable image: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** The image as the spec wants it: unchanged when it fits, resized/converted when allowed, else an error. */
export async function fitImage(image: LoadedImage, spec: ImageSpec): Promise<Pixels> {
  const why = mismatch(image, spec);
  if (!why) return image;
  const sizeWrong = image.width !== spec.width || image.height !== spec.height;
  const channelsWrong = image.channels !== spec.channels;
  if ((sizeWrong && !image.options.resize && spec.crop === undefined) || (channelsWrong && !image.options.convert)) {
    const hint = sizeWrong ? " (allow resizing with resize: true / --resize)" : " (allow conversion with convert: true / --convert)";
    throw new InputError(`${image.file}: ${why}${hint}`);
  }
  const sharp = await loadSharp();
  let p = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  const kernel = spec.interpolation === "bicubic" ? "cubic" : spec.interpolation === "bilinear" ? "linear" : undefined;
  if (sizeWrong && spec.crop !== undefined) {
    const g = cropGeometry(image.width, image.height, spec.width, spec.height, spec.crop);
    // extract after resize crops the resized image (sharp's post-resize extraction).
    p = p.resize(g.width, g.height, { fit: "fill", ...(kernel ? { kernel } : {}) }).extract({ left: g.left, top: g.top, width: spec.width, height: spec.height });
  } else if (sizeWrong) {
    p = p.resize(spec.width, spec.height, { fit: "fill", ...(kernel ? { kernel } : {}) });
  }
  p = spec.channels === 1 ? p.toColourspace("b-w") : p.toColourspace("srgb");
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as 1 | 3 };
}
