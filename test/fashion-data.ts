/**
 * Fashion-MNIST from Debian's dataset-fashion-mnist (installed with apt-get when missing), prepared as the
 * bundled model's model.json says: each 28x28 image padded by 2 zero pixels on every side to 32x32 and
 * repeated to 3 channels (train_fashion.py: np.pad(x, 2), np.repeat over channels).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { imageFromPixels, type LoadedImage } from "../src/runtime/image.js";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
const IMAGES_MAGIC = 0x803;
const LABELS_MAGIC = 0x801;

export function ensureFashionMnist(): void {
  if (existsSync(`${FASHION_DIR}/t10k-images-idx3-ubyte.gz`)) return;
  // The acceptance test installs its data itself (root on CI and on the dev machine).
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => execFileSync("apt-get", ["install", "-y", "-q", "dataset-fashion-mnist"], { stdio: "ignore", env });
  try {
    install();
  } catch {
    // A fresh machine may have no package lists yet.
    execFileSync("apt-get", ["update", "-q"], { stdio: "ignore", env });
    install();
  }
  if (!existsSync(`${FASHION_DIR}/t10k-images-idx3-ubyte.gz`)) throw new Error(`apt-get installed dataset-fashion-mnist but ${FASHION_DIR} has no test set`);
}

function idx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${path}: not an IDX file of magic ${magic.toString(16)}`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const off = 4 + 4 * rank;
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + off, buf.byteLength - off) };
}

export interface FashionSet {
  images: LoadedImage[];
  labels: Uint8Array;
}

/** Up to `limit` images from index `offset` on. */
export function readFashionMnist(split: "t10k" | "train" = "t10k", limit = Infinity, offset = 0): FashionSet {
  ensureFashionMnist();
  const img = idx(`${FASHION_DIR}/${split}-images-idx3-ubyte.gz`, IMAGES_MAGIC);
  const lab = idx(`${FASHION_DIR}/${split}-labels-idx1-ubyte.gz`, LABELS_MAGIC);
  const [count, h, w] = img.dims as [number, number, number];
  const end = Math.min(count, offset + limit);
  const images: LoadedImage[] = [];
  for (let i = offset; i < end; i++) images.push(padToRgb32(img.data.subarray(i * h * w, (i + 1) * h * w), h, w, `${split}_${i}`));
  return { images, labels: lab.data.subarray(offset, end) };
}

const PAD = 2;

function padToRgb32(gray: Uint8Array, h: number, w: number, name: string): LoadedImage {
  const H = h + 2 * PAD;
  const W = w + 2 * PAD;
  const out = new Uint8Array(H * W * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = gray[y * w + x]!;
      const o = ((y + PAD) * W + (x + PAD)) * 3;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
  }
  return imageFromPixels(out, W, H, 3, name);
}

/** The images as PNG files in `dir` (NAME.png), for tests that go through the CLI. */
export async function writePngs(images: readonly LoadedImage[], dir: string): Promise<string[]> {
  const sharp = (await import("sharp")).default;
  return Promise.all(
    images.map(async (img) => {
      const file = `${dir}/${img.file}.png`;
      await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toFile(file);
      return file;
    }),
  );
}
