/**
 * What shape rules see and return. A rule is a pure function of its node, its inputs' infos and the opset;
 * it may also compute the output's values when the inputs' values are known (shape sub-graphs), which is
 * how Reshape and Expand targets resolve symbolically.
 */
import type { DType } from "../graph/dtype.js";
import type { Graph, Node, Tensor } from "../graph/ir.js";
import type { Dim } from "../sym/expr.js";

/** Tensors whose values are tracked: shape sub-graphs are small; weights are never decoded. */
export const MAX_VALUE_ELEMENTS = 4096;

export interface TensorInfo {
  /** Sequences and optionals carry their element's info in `elem`. */
  kind?: "tensor" | "sequence" | "optional";
  dtype: DType | undefined;
  /** undefined: rank unknown. */
  shape: Dim[] | undefined;
  /** Known values, row-major (integers may be symbolic; floats are numbers). Only for small tensors. */
  value?: Dim[];
  elem?: TensorInfo;
  /** For a sequence of known length, each element's info. */
  items?: TensorInfo[];
  /** Marks a value that came from an initializer (a parameter, counted in paramBytes). */
  initializer?: Tensor;
}

export interface InferContext {
  readonly node: Node;
  /** The opset version of the node's domain. */
  readonly opset: number;
  readonly inputs: readonly (TensorInfo | undefined)[];
  /** Number of outputs the node declares. */
  readonly outputCount: number;

  /** Input i, or a ShapeError when it is absent. */
  input(i: number): TensorInfo;
  /** Whether input i is present (not omitted). */
  has(i: number): boolean;
  /** Input i's shape; stops inference of this node (outputs unknown, no new warning) when it is unknown. */
  shape(i: number): Dim[];
  /** Input i's dtype; stops inference when unknown. */
  dtype(i: number): DType;
  /** Input i's values when known (constant or propagated), else undefined. */
  value(i: number): Dim[] | undefined;
  /** Input i's values as plain numbers, or undefined if unknown or symbolic. */
  numbers(i: number): number[] | undefined;

  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  ints(name: string): number[] | undefined;
  float(name: string, dflt: number): number;
  floats(name: string): number[] | undefined;
  string(name: string, dflt: string): string;
  string(name: string): string | undefined;
  strings(name: string): string[] | undefined;
  tensor(name: string): Tensor | undefined;
  /** A tensor attribute's (or initializer's) values, decoded. */
  tensorValues(t: Tensor): number[];
  graph(name: string): Graph | undefined;

  /** Infer a subgraph (If/Loop/Scan body) given its inputs; the outer scope is visible to it. */
  inferSubgraph(g: Graph, inputs: TensorInfo[]): TensorInfo[];
  /** A fresh symbol for a data-dependent dimension, with an upper bound used for memory. */
  fresh(hint: string, upperBound?: Dim): Dim;
  /** Record something assumed or bounded about this node. */
  warn(message: string): void;
  /** Stop inference of this node: outputs unknown, with the reason as a warning. */
  unknown(reason: string): never;
  /** A ShapeError naming this node. */
  error(detail: string): never;
}

export interface OpRule {
  /** Domain: "" for ai.onnx, "com.microsoft" for onnxruntime contrib ops. */
  domain?: string;
  /** The first opset whose semantics this rule implements (for ops whose meaning changed). Default 1. */
  since?: number;
  /** Outputs in order; undefined entries are unknown. */
  infer(ctx: InferContext): (TensorInfo | undefined)[];
  /** Floating-point operations (multiply-adds count 2), given the outputs already inferred. */
  flops?(ctx: InferContext, outputs: readonly (TensorInfo | undefined)[]): Dim;
}

/** An op family file exports its rules keyed by op type. */
export type OpFamily = Record<string, OpRule | OpRule[]>;

export function tensor(dtype: DType | undefined, shape: Dim[] | undefined, value?: Dim[]): TensorInfo {
  return value === undefined ? { dtype, shape } : { dtype, shape, value };
}
