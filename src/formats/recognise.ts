/**
 * What a file is, from its first bytes, not its name: a model (ONNX protobuf, GGUF, safetensors, a JSON
 * config) or a common file that is not one (an image, an archive, a PDF), so a wrong file is named for what it
 * is instead of failing deep in the protobuf reader. Magic numbers: PNG (RFC 2083), JPEG (JFIF SOI FF D8 FF),
 * GIF87a/89a, WebP (RIFF....WEBP), PDF (%PDF-), ZIP (PK\x03\x04: also PyTorch's .pt/.pth checkpoints), gzip
 * (1F 8B), GGUF ("GGUF", ggml's gguf.md), safetensors (an 8-byte little-endian header length, then `{"`).
 */
export type FileKind =
  | "onnx-or-unknown"
  | "gguf"
  | "safetensors"
  | "json"
  | "png"
  | "jpeg"
  | "gif"
  | "webp"
  | "pdf"
  | "zip"
  | "gzip";

/** How a message names each kind that is not an ONNX model. */
export const KIND_NAMES: Record<Exclude<FileKind, "onnx-or-unknown">, string> = {
  gguf: "a GGUF file",
  safetensors: "a safetensors file",
  json: "a JSON file",
  png: "a PNG image",
  jpeg: "a JPEG image",
  gif: "a GIF image",
  webp: "a WebP image",
  pdf: "a PDF document",
  zip: "a ZIP archive (a PyTorch .pt/.pth checkpoint is one: export it to ONNX)",
  gzip: "a gzip-compressed file (decompress it first)",
};

/** What memlens reads, for messages. */
export const ACCEPTED = "accepted: .onnx, a model hub folder or its config.json (+ safetensors), .gguf";

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean => bytes.every((b, i) => head[at + i] === b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

export function recognise(head: Uint8Array): FileKind {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(head, ascii("GIF87a")) || startsWith(head, ascii("GIF89a"))) return "gif";
  if (startsWith(head, ascii("RIFF")) && startsWith(head, ascii("WEBP"), 8)) return "webp";
  if (startsWith(head, ascii("%PDF-"))) return "pdf";
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return "zip";
  if (startsWith(head, [0x1f, 0x8b])) return "gzip";
  if (startsWith(head, ascii("GGUF"))) return "gguf";
  if (head.length >= 10 && head[8] === 0x7b && (head[9] === 0x22 || head[9] === 0x20 || head[9] === 0x0a) && head[6] === 0 && head[7] === 0) return "safetensors";
  // JSON (a config.json under any name): '{' cannot start a ModelProto (field 15, wire type 3, is no ONNX field).
  if (firstNonSpace(head) === 0x7b) return "json";
  return "onnx-or-unknown";
}

function firstNonSpace(head: Uint8Array): number | undefined {
  for (const b of head) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return undefined;
}
