/**
 * Building small graphs in tests without writing protobuf: one node (or a few) with declared inputs,
 * inferred by the real engine. Used by the op families' tests.
 */
import type { DType } from "../graph/dtype.js";
import { byteSize } from "../graph/dtype.js";
import type { Attr, Graph, Model, Node, Tensor } from "../graph/ir.js";
import { encodeRaw, onnxTensorValues } from "../formats/onnx/values.js";
import { MemorySource } from "../formats/source.js";
import { type Dim } from "../sym/expr.js";
import { parseDim } from "../sym/parse.js";
import { inferModel, type InferenceResult } from "./engine.js";
import type { TensorInfo } from "./types.js";
import { elementCount } from "../graph/element-count.js";

/** A shape written compactly: numbers, or strings parsed as symbolic dims ("batch", "seq*2"). */
export type ShapeSpec = (number | string)[];

export function dims(spec: ShapeSpec): Dim[] {
  return spec.map((d) => (typeof d === "number" ? d : parseDim(d)));
}

/** An in-memory initializer with values (stored as raw_data in a private buffer). */
export function constTensor(name: string, dtype: DType, shape: number[], values: number[]): Tensor {
  const raw = encodeRaw(dtype, values);
  const elements = elementCount(shape);
  return {
    name,
    dtype,
    dims: shape,
    elements,
    bytes: byteSize(dtype, elements),
    data: { kind: "embedded", proto: { offset: 0, length: 0 }, raw: { offset: 0, length: raw.length } },
    source: new MemorySource(raw, name),
  };
}

/** Attributes from plain values: number -> int (use {f: x} for float), number[] -> ints, string -> string. */
export type AttrSpec = number | number[] | string | string[] | { f: number } | { fs: number[] } | Attr;

export function attrs(spec: Record<string, AttrSpec>): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (typeof v === "number") out[k] = { type: "int", value: v };
    else if (typeof v === "string") out[k] = { type: "string", value: v };
    else if (Array.isArray(v)) {
      out[k] = typeof v[0] === "string" ? { type: "strings", value: v as string[] } : { type: "ints", value: v as number[] };
    } else if ("f" in v) out[k] = { type: "float", value: v.f };
    else if ("fs" in v) out[k] = { type: "floats", value: v.fs };
    else out[k] = v;
  }
  return out;
}

export interface GraphSpec {
  inputs: Record<string, { dtype: DType; shape: ShapeSpec }>;
  initializers?: Tensor[];
  nodes: { op: string; domain?: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrSpec>; name?: string }[];
  outputs: string[];
  opset?: number;
  opsets?: Record<string, number>;
}

export function buildModel(spec: GraphSpec): Model {
  const nodes: Node[] = spec.nodes.map((n, i) => ({
    name: n.name ?? `n${i}`,
    opType: n.op,
    domain: n.domain ?? "",
    inputs: n.inputs,
    outputs: n.outputs,
    attrs: attrs(n.attrs ?? {}),
  }));
  const graph: Graph = {
    name: "test",
    nodes,
    inputs: Object.entries(spec.inputs).map(([name, t]) => ({
      name,
      type: { kind: "tensor", dtype: t.dtype, shape: dims(t.shape) },
    })),
    outputs: spec.outputs.map((name) => ({ name, type: { kind: "unknown" } })),
    initializers: new Map((spec.initializers ?? []).map((t) => [t.name, t])),
    valueInfo: new Map(),
  };
  return {
    format: "onnx",
    file: "test.onnx",
    irVersion: 8,
    producer: "memlens tests",
    opsets: spec.opsets ?? { "": spec.opset ?? 21, "com.microsoft": 1 },
    graph,
    metadata: {},
    warnings: [],
  };
}

export function infer(spec: GraphSpec): InferenceResult {
  return inferModel(buildModel(spec), { trustDeclared: false, tensorValues: onnxTensorValues() });
}

/** Infer one op and return its outputs' infos (shapes printed as strings for easy asserts). */
export function inferOp(
  op: string,
  inputs: ({ dtype: DType; shape: ShapeSpec } | Tensor | null)[],
  attrSpec: Record<string, AttrSpec> = {},
  options: { outputs?: number; domain?: string; opset?: number } = {},
): { out: (TensorInfo | undefined)[]; shapes: (string | undefined)[]; warnings: string[] } {
  const graphInputs: GraphSpec["inputs"] = {};
  const inits: Tensor[] = [];
  const names = inputs.map((x, i) => {
    if (x === null) return "";
    if ("elements" in x) {
      inits.push(x);
      return x.name;
    }
    graphInputs[`x${i}`] = x;
    return `x${i}`;
  });
  const outs = Array.from({ length: options.outputs ?? 1 }, (_, i) => `y${i}`);
  const r = infer({
    inputs: graphInputs,
    initializers: inits,
    nodes: [{ op, domain: options.domain ?? "", inputs: names, outputs: outs, attrs: attrSpec }],
    outputs: outs,
    ...(options.opset !== undefined ? { opsets: { "": options.opset, "com.microsoft": 1 } } : {}),
  });
  const out = outs.map((o) => r.values.get(o));
  return {
    out,
    shapes: out.map((t) => (t?.shape ? `[${t.shape.map(String).join(",")}]` : undefined)),
    warnings: r.warnings,
  };
}
