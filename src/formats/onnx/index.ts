import type { ByteSource } from "../source.js";
import type { Model } from "../../graph/ir.js";
import { decodeModel } from "./decode.js";

/** The ONNX format plug-in: a cheap look at the first bytes, then the full lazy decode. */
export const onnxFormat = {
  id: "onnx" as const,
  /** ModelProto starts with ir_version (field 1, varint: 0x08) in every exporter we know. */
  match(head: Uint8Array): boolean {
    return head.length > 1 && head[0] === 0x08 && head[1]! > 0 && head[1]! < 64;
  },
  open(src: ByteSource, file: string): Model {
    return decodeModel(src, file);
  },
};
