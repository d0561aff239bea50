/**
 * From decoded pixels to a model's input tensor: the image spec is read from the model's input (rank 4,
 * layout, channels, size), refined by the sidecar and the caller's options. Pure: no decoding here.
 */
import { InputError } from "../errors.js";

/**
 * Decompression bombs: a PNG of a few kB can claim gigapixels. 64 Mpixel covers any real photo. The same bound
 * holds for the size a model or its sidecar asks images to be resized to: the model does not decide how much
 * memory the image path takes (a declared 20,000 x 20,000 input would be 4.8 GB of float32 per image).
 */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;
import type { HostTensor } from "./ort.js";
import type { PreprocessSpec } from "./sidecar.js";

/** Decoded pixels, row-major HWC, 8 bits per channel, alpha already removed. */
export interface Pixels {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  data: Uint8Array;
}

/** What the caller may override; the rest comes from the model and its sidecar. */
export interface PreprocessOptions {
  /** Resize to the model's size instead of refusing an image of another size. */
  resize?: boolean;
  /** Convert gray <-> RGB instead of refusing an image with the wrong channel count. */
  convert?: boolean;
  scale?: number;
  mean?: number[];
  std?: number[];
  layout?: "NCHW" | "NHWC";
  /** [height, width], for models whose input size is symbolic. */
  size?: [number, number];
  /** Resize the shorter side to size / crop and centre-crop (see PreprocessSpec.crop). */
  crop?: number;
  interpolation?: "bilinear" | "bicubic";
}

export interface ImageSpec {
  input: string;
  layout: "NCHW" | "NHWC";
  channels: 1 | 3;
  height: number;
  width: number;
  scale: number;
  mean: number[];
  std: number[];
  /** An image of another size: shorter side to size / crop, then the centre (no stretch, no --resize needed). */
  crop?: number;
  interpolation?: "bilinear" | "bicubic";
}

export interface InputDescription {
  name: string;
  /** ONNX element type name (`float32`...), when known. */
  type: string | undefined;
  shape: (number | string)[] | undefined;
}

/** The one image input of a model, or an InputError saying why the model does not take images. */
export function imageSpecFor(
  inputs: readonly InputDescription[],
  sidecar: PreprocessSpec | undefined,
  opts: PreprocessOptions = {},
  /** The size where the input leaves it symbolic and nothing states one (a preset's). */
  fallbackSize?: readonly [number, number],
): ImageSpec {
  const describe = (i: InputDescription) => `'${i.name}' [${i.shape?.join(", ") ?? "?"}]`;
  if (inputs.length !== 1) {
    throw new InputError(`the model takes ${inputs.length} inputs (${inputs.map(describe).join(", ")}), not one image`);
  }
  const input = inputs[0]!;
  const shape = input.shape;
  if (!shape || shape.length !== 4) throw new InputError(`model input ${describe(input)} is not an image: expected rank 4 (N, C, H, W or N, H, W, C)`);
  if (input.type !== undefined && input.type !== "float32") {
    throw new InputError(`model input ${describe(input)} has type ${input.type}: only float32 image inputs are supported`);
  }
  const isChannels = (d: number | string | undefined) => d === 1 || d === 3;
  let layout = opts.layout ?? sidecar?.layout;
  if (!layout) {
    const fromShape = layoutFromShape(shape);
    if (!fromShape) throw new InputError(`model input ${describe(input)} is not an image: no dimension of 1 or 3 channels`);
    layout = fromShape.layout;
  }
  const [c, h, w] = layout === "NCHW" ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  if (!isChannels(c)) throw new InputError(`model input ${describe(input)} is not a ${layout} image: ${String(c)} channels`);
  const size = opts.size ?? sidecar?.size;
  const height = typeof h === "number" ? h : (size ?? fallbackSize)?.[0];
  const width = typeof w === "number" ? w : (size ?? fallbackSize)?.[1];
  if (height === undefined || width === undefined) {
    throw new InputError(`model input ${describe(input)} has a symbolic image size: give one (--size HxW, the size option, or preprocess.size in its sidecar)`);
  }
  if (height * width > MAX_IMAGE_PIXELS) {
    const from = typeof h === "number" && typeof w === "number" ? `model input ${describe(input)}` : opts.size ? "--size (the size option)" : sidecar?.size ? "preprocess.size" : "the default size";
    throw new InputError(`${from} asks for ${height}x${width} images (${(height * width / 2 ** 20).toFixed(0)} Mpixel), over the limit of ${MAX_IMAGE_PIXELS / 2 ** 20} Mpixel`);
  }
  if (size && (size[0] !== height || size[1] !== width)) {
    throw new InputError(`image size ${size[0]}x${size[1]} contradicts model input ${describe(input)}`);
  }
  const channels = c as 1 | 3;
  const perChannel = (v: number[] | undefined, dflt: number, what: string): number[] => {
    if (!v) return new Array<number>(channels).fill(dflt);
    if (v.length === 1) return new Array<number>(channels).fill(v[0]!);
    if (v.length !== channels) throw new InputError(`${what} has ${v.length} values for a ${channels}-channel input`);
    return v;
  };
  return {
    input: input.name,
    layout,
    channels,
    height,
    width,
    scale: opts.scale ?? sidecar?.scale ?? 1 / 255,
    mean: perChannel(opts.mean ?? sidecar?.mean, 0, "mean"),
    std: perChannel(opts.std ?? sidecar?.std, 1, "std"),
    ...withDefined("crop", opts.crop ?? sidecar?.crop),
    ...withDefined("interpolation", opts.interpolation ?? sidecar?.interpolation),
  };
}

/** The layout a rank-4 shape implies: where its 1- or 3-channel dim is; ambiguous when both places could be. */
export function layoutFromShape(shape: readonly (number | string)[]): { layout: "NCHW" | "NHWC"; ambiguous: boolean } | undefined {
  const isChannels = (d: number | string | undefined) => d === 1 || d === 3;
  const c1 = isChannels(shape[1]);
  const c3 = isChannels(shape[3]);
  if (c1) return { layout: "NCHW", ambiguous: c3 };
  if (c3) return { layout: "NHWC", ambiguous: false };
  return undefined;
}

function withDefined<K extends string, V>(key: K, v: V | undefined): { [k in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [k in K]?: V };
}

/**
 * Resize-and-crop geometry (torchvision's Resize(size / crop) then CenterCrop(size)): the constraining side
 * becomes round(target / crop), the other keeps the aspect ratio (floored, as torchvision does), and the crop
 * starts at round((resized - target) / 2), rounding half to even as Python's round().
 */
export function cropGeometry(w: number, h: number, W: number, H: number, crop: number): { width: number; height: number; left: number; top: number } {
  let width: number;
  let height: number;
  if (W / w >= H / h) {
    width = Math.round(W / crop);
    height = Math.max(H, Math.floor((h * width) / w));
  } else {
    height = Math.round(H / crop);
    width = Math.max(W, Math.floor((w * height) / h));
  }
  return { width, height, left: roundHalfEven((width - W) / 2), top: roundHalfEven((height - H) / 2) };
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Why these pixels do not fit the spec as they are (undefined when they do). */
export function mismatch(p: Pixels, spec: ImageSpec): string | undefined {
  if (p.width !== spec.width || p.height !== spec.height) {
    return `image is ${p.width}x${p.height}, the model takes ${spec.width}x${spec.height}`;
  }
  if (p.channels !== spec.channels) {
    return `image has ${p.channels} channel${p.channels === 1 ? "" : "s"}, the model takes ${spec.channels}`;
  }
  return undefined;
}

/** Pack images that already fit the spec into one float32 batch: x = (pixel * scale - mean) / std. */
export function packBatch(images: readonly Pixels[], spec: ImageSpec, names: readonly string[] = []): HostTensor {
  const { height: h, width: w, channels: c } = spec;
  const plane = h * w;
  const per = plane * c;
  const data = new Float32Array(images.length * per);
  const a = spec.mean.map((m, k) => ({ mul: spec.scale / spec.std[k]!, add: -m / spec.std[k]! }));
  images.forEach((img, n) => {
    const why = mismatch(img, spec);
    if (why) throw new InputError(`${names[n] ?? `image ${n}`}: ${why}`);
    const src = img.data;
    const base = n * per;
    for (let k = 0; k < c; k++) {
      const { mul, add } = a[k]!;
      if (spec.layout === "NCHW") {
        const off = base + k * plane;
        for (let i = 0; i < plane; i++) data[off + i] = src[i * c + k]! * mul + add;
      } else {
        for (let i = 0; i < plane; i++) data[base + i * c + k] = src[i * c + k]! * mul + add;
      }
    }
  });
  const dims = spec.layout === "NCHW" ? [images.length, c, h, w] : [images.length, h, w, c];
  return { type: "float32", dims, data };
}
