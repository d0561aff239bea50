/**
 * TensorProto and SparseTensorProto -> IR tensors: dims, dtype, and where the payload lives (a span of the
 * file, or an external file inside the model's folder). Payloads are not read here.
 */
import { ModelFormatError } from "../../errors.js";
import { byteSize, dtypeFromCode } from "../../graph/dtype.js";
import type { Tensor, TensorData } from "../../graph/ir.js";
import type { ByteSource } from "../source.js";
import { quote } from "../quote.js";
import { MAX_ATTR_STRING_BYTES, MAX_ELEMENTS, MAX_NAME_BYTES, MAX_RANK } from "./limits.js";
import { expectLen, expectWire, ProtoReader, WIRE_LEN, WIRE_VARINT } from "./proto.js";

export function readTensor(r: ProtoReader, src: ByteSource): Tensor {
  const start = r.pos;
  const dims: number[] = [];
  let code = 0;
  let name = "";
  let raw: { offset: number; length: number } | undefined;
  let external = false;
  const ext: Record<string, string> = {};
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        r.repeated(w, WIRE_VARINT, () => r.varint(), dims, MAX_RANK, "tensor dims");
        break;
      case 2:
        code = expectWire(r, w, WIRE_VARINT, "tensor data_type").varint();
        break;
      case 8:
        name = expectLen(r, w, "tensor name").string(MAX_NAME_BYTES, "tensor name");
        break;
      case 9:
        raw = expectLen(r, w, "raw_data").ref();
        break;
      case 13: {
        const [k, v] = expectLen(r, w, "external_data").message(readStringPair);
        ext[k] = v;
        break;
      }
      case 14:
        external = expectWire(r, w, WIRE_VARINT, "tensor data_location").varint() === 1;
        break;
      default:
        r.skip(w);
    }
  }
  const end = r.pos;
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new ModelFormatError(`tensor ${quote(name)} has unknown data type ${code}`);
  const elements = countElements(name, dims);
  const bytes = byteSize(dtype, elements);
  let data: TensorData;
  if (external) {
    data = externalRef(name, ext);
  } else {
    if (raw && dtype !== "string" && raw.length !== bytes) {
      throw new ModelFormatError(`tensor ${quote(name)}: raw_data holds ${raw.length} bytes, its dims need ${bytes}`);
    }
    data = { kind: "embedded", proto: { offset: start, length: end - start }, raw };
  }
  return { name, dtype, dims, elements, bytes, data, source: src };
}

export function readSparse(r: ProtoReader, src: ByteSource): Tensor {
  let values: Tensor | undefined;
  const dims: number[] = [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      if (values) throw new ModelFormatError("a sparse tensor holds its values twice (protobuf merges them; memlens does not read merged tensors)");
      values = r.message((m) => readTensor(m, src));
    }
    else if (f === 3) r.repeated(w, WIRE_VARINT, () => r.varint(), dims, MAX_RANK, "sparse tensor dims");
    else r.skip(w);
  }
  if (!values) throw new ModelFormatError("sparse initializer without values");
  const elements = countElements(values.name, dims);
  return { ...values, dims, elements, bytes: byteSize(values.dtype, elements) };
}

function countElements(name: string, dims: number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`tensor ${quote(name)} has dim ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ModelFormatError(`tensor ${quote(name)} claims more than 2^53 elements`);
  }
  return n;
}

/**
 * External data: `location` must name a file inside the model's folder. Absolute paths, `..` segments and
 * drive letters are refused here (CVE-2022-25882, CVE-2024-27318); symlinks are checked when the file is opened.
 */
function externalRef(name: string, ext: Record<string, string>): TensorData {
  const location = ext["location"];
  if (location === undefined || location === "") {
    throw new ModelFormatError(`tensor ${quote(name)}: external data without a location`);
  }
  checkExternalLocation(name, location);
  const offset = ext["offset"] === undefined ? 0 : Number(ext["offset"]);
  const length = ext["length"] === undefined ? undefined : Number(ext["length"]);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ModelFormatError(`tensor ${quote(name)}: external data offset ${quote(ext["offset"] ?? "")} is not a byte offset`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new ModelFormatError(`tensor ${quote(name)}: external data length ${quote(ext["length"] ?? "")} is not a byte count`);
  }
  return { kind: "external", location, offset, length };
}

export function checkExternalLocation(name: string, location: string): void {
  const parts = location.split(/[\\/]+/);
  if (
    location.includes("\0") ||
    location.startsWith("/") ||
    location.startsWith("\\") ||
    /^[A-Za-z]:/.test(location) ||
    parts.includes("..")
  ) {
    throw new ModelFormatError(`tensor ${quote(name)}: external data location ${quote(location)} escapes the model's folder`);
  }
}

/** A StringStringEntryProto (external_data, metadata_props). */
export function readStringPair(r: ProtoReader): [string, string] {
  let k = "";
  let v = "";
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) k = r.string(MAX_NAME_BYTES, "key");
    else if (f === 2 && w === WIRE_LEN) v = r.string(MAX_ATTR_STRING_BYTES, "value");
    else r.skip(w);
  }
  return [k, v];
}
