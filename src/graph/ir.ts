/**
 * The graph IR: what the ONNX reader (formats/onnx) produces and every graph analysis (shapes, memory, quantize,
 * runtime) consumes. Sources without a graph (a transformer's config.json or safetensors headers, a GGUF file)
 * are read into llm/describe.ts's LlmSource instead. Weights are never held here: a Tensor says where its bytes
 * are (a span of the bytes it was read from, or a range of an external file).
 */
import type { DType } from "./dtype.js";
import type { Dim } from "../sym/expr.js";

export type TensorData =
  /** Inside the model file: the TensorProto message, and its raw_data field when it has one. */
  | { kind: "embedded"; proto: Span; raw: Span | undefined }
  /** In a side file, by the path written in the model (checked not to escape the model's folder). */
  | { kind: "external"; location: string; offset: number; length: number | undefined };

export interface Span {
  offset: number;
  length: number;
}

export interface Tensor {
  name: string;
  dtype: DType;
  dims: number[];
  elements: number;
  bytes: number;
  data: TensorData;
  /** The bytes the embedded spans point into (the reader's file, as a formats/source.ts ByteSource). */
  source: TensorBytes;
}

/**
 * Random access to the bytes an embedded tensor's spans point into: the IR does not know where they come from
 * (a file, a browser File, a test's bytes). Any formats/source.ts ByteSource is one.
 */
export interface TensorBytes {
  readonly size: number;
  /** For messages (the file name). */
  readonly name: string;
  read(offset: number, length: number): Uint8Array;
}

/**
 * A tensor's values, for the few small tensors shape inference must read (Reshape's shape, Slice's starts).
 * The reader that produced the IR implements it (formats/onnx/values.ts for ONNX), so an analysis never
 * decodes a file format itself. Strings for string tensors; int64 beyond 2^53 loses precision.
 */
export type TensorValues = (t: Tensor) => number[] | string[];

export type ValueType =
  | { kind: "tensor"; dtype: DType | undefined; shape: Dim[] | undefined }
  | { kind: "sequence"; elem: ValueType }
  | { kind: "optional"; elem: ValueType }
  | { kind: "map" }
  | { kind: "sparse"; dtype: DType | undefined; shape: Dim[] | undefined }
  | { kind: "unknown" };

export interface ValueInfo {
  name: string;
  type: ValueType;
}

export type Attr =
  | { type: "float"; value: number }
  | { type: "int"; value: number }
  | { type: "string"; value: string }
  | { type: "tensor"; value: Tensor }
  /** A SparseTensorProto (Constant's sparse_value), as its dense equivalent: runtimes materialise it dense. */
  | { type: "sparse"; value: Tensor }
  | { type: "graph"; value: Graph }
  | { type: "floats"; value: number[] }
  | { type: "ints"; value: number[] }
  | { type: "strings"; value: string[] }
  | { type: "tensors"; value: Tensor[] }
  | { type: "graphs"; value: Graph[] }
  | { type: "type"; value: ValueType }
  | { type: "ref"; ref: string }
  | { type: "other" };

export interface Node {
  name: string;
  opType: string;
  /** "" for the default ONNX domain ("ai.onnx" is normalised to ""). */
  domain: string;
  /** "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** The exporter's module path for the node (metadata_props `namespace`, torch.onnx dynamo), when present. */
  scope?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  valueInfo: Map<string, ValueInfo>;
}

export interface Model {
  format: "onnx";
  file: string;
  irVersion: number;
  producer: string;
  /** Domain ("" for ai.onnx) -> opset version. */
  opsets: Record<string, number>;
  graph: Graph;
  metadata: Record<string, string>;
  /** What the reader noticed: inlined functions, unusual fields. */
  warnings: string[];
}

export function normaliseDomain(d: string): string {
  return d === "ai.onnx" ? "" : d;
}
