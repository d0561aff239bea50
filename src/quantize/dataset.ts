/**
 * Images for calibration and for measuring accuracy, as float batches ready for the model:
 * - a folder of images (calibration; labels ignored);
 * - labelled images: a folder of LABEL/*.png (LABEL a class name from model.json or a class index), or an
 *   IDX dataset folder (MNIST format: t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]), whose
 *   smaller gray images are centred on a zero border to the model's size and repeated to its channels,
 *   as the bundled Fashion-MNIST model was trained.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { InputError } from "../errors.js";
import { readRegularFile } from "../formats/read-file.js";
import { fitImage, loadImage } from "../runtime/image.js";
import type { HostTensor } from "../runtime/ort.js";
import { packBatch, type ImageSpec, type Pixels } from "../runtime/preprocess.js";

const IMAGE_EXT = /\.(png|jpe?g|webp)$/i;

export interface Labelled {
  images: Pixels[];
  labels: number[];
}

export async function imagesInFolder(dir: string, spec: ImageSpec, limit = Infinity): Promise<Pixels[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: not a folder of images`);
  const files = readdirSync(dir).filter((f) => IMAGE_EXT.test(f)).sort().slice(0, limit);
  if (files.length === 0) throw new InputError(`${dir}: no PNG/JPEG/WebP images`);
  return Promise.all(files.map(async (f) => fitImage(await loadImage(join(dir, f), { resize: true, convert: true }), spec)));
}

export async function labelledImages(dir: string, spec: ImageSpec, classNames: readonly string[], limit = Infinity): Promise<Labelled> {
  const idx = findIdx(dir);
  if (idx) return readIdx(idx.images, idx.labels, spec, limit);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: not a folder of labelled images`);
  const images: Pixels[] = [];
  const labels: number[] = [];
  for (const sub of readdirSync(dir).sort()) {
    const path = join(dir, sub);
    if (!statSync(path).isDirectory()) continue;
    const label = classNames.indexOf(sub) >= 0 ? classNames.indexOf(sub) : /^\d+$/.test(sub) ? Number(sub) : -1;
    if (label < 0) throw new InputError(`${path}: folder name is neither a class name nor a class index`);
    const remaining = limit - images.length;
    if (remaining <= 0) break;
    const pix = await imagesInFolder(path, spec, remaining);
    images.push(...pix);
    labels.push(...pix.map(() => label));
  }
  if (images.length === 0) throw new InputError(`${dir}: no LABEL/*.png images and no IDX dataset`);
  return { images, labels };
}

function findIdx(dir: string): { images: string; labels: string } | undefined {
  for (const prefix of ["t10k", "test"]) {
    for (const gz of [".gz", ""]) {
      const images = join(dir, `${prefix}-images-idx3-ubyte${gz}`);
      const labels = join(dir, `${prefix}-labels-idx1-ubyte${gz}`);
      if (existsSync(images) && existsSync(labels)) return { images, labels };
    }
  }
  return undefined;
}

/** An IDX file, compressed or not: Fashion-MNIST's training images are 47 MB; a larger one is refused, never inflated. */
const MAX_IDX_BYTES = 256 * 1024 * 1024;

function readGz(path: string): Uint8Array {
  const b = readRegularFile(path, MAX_IDX_BYTES, "dataset file");
  if (!path.endsWith(".gz")) return b;
  try {
    return gunzipSync(b, { maxOutputLength: MAX_IDX_BYTES });
  } catch (e) {
    throw new InputError(`${path}: not a readable gzip file of at most ${MAX_IDX_BYTES} bytes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function readIdx(imagesPath: string, labelsPath: string, spec: ImageSpec, limit = Infinity): Labelled {
  const img = readGz(imagesPath);
  const lab = readGz(labelsPath);
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const lv = new DataView(lab.buffer, lab.byteOffset, lab.byteLength);
  if (img.length < 16 || dv.getUint32(0) !== 0x803 || lab.length < 8 || lv.getUint32(0) !== 0x801) {
    throw new InputError(`${imagesPath}: not an IDX image/label pair`);
  }
  const count = Math.min(dv.getUint32(4), lv.getUint32(4), limit);
  const h = dv.getUint32(8);
  const w = dv.getUint32(12);
  if (16 + count * h * w > img.length || 8 + count > lab.length) throw new InputError(`${imagesPath}: truncated`);
  if (h > spec.height || w > spec.width) throw new InputError(`${imagesPath}: ${w}x${h} images are larger than the model's ${spec.width}x${spec.height}`);
  const top = Math.floor((spec.height - h) / 2);
  const left = Math.floor((spec.width - w) / 2);
  const c = spec.channels;
  const images: Pixels[] = [];
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const data = new Uint8Array(spec.height * spec.width * c);
    const src = 16 + n * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = img[src + y * w + x]!;
        const o = ((y + top) * spec.width + x + left) * c;
        for (let k = 0; k < c; k++) data[o + k] = v;
      }
    }
    images.push({ width: spec.width, height: spec.height, channels: c, data });
    labels.push(lab[8 + n]!);
  }
  return { images, labels };
}

export function toBatches(images: readonly Pixels[], spec: ImageSpec, batchSize: number): HostTensor[] {
  const out: HostTensor[] = [];
  for (let i = 0; i < images.length; i += batchSize) out.push(packBatch(images.slice(i, i + batchSize), spec));
  return out;
}
