/**
 * Limits of the ONNX reader. Every count and length read from a file is checked against one of these before anything is
 * allocated for it, so a hostile file is refused with a reason instead of exhausting memory. Lengths are
 * also checked against the bytes left in their message (proto.ts), so nothing claims more than the file has.
 */
import { ModelFormatError } from "../../errors.js";
import type { Dim } from "../../sym/expr.js";

/** Subgraphs (If/Loop/Scan bodies) nest; deeper than this is not a real model. */
export const MAX_GRAPH_DEPTH = 32;
/**
 * Subgraphs (If branches, Loop and Scan bodies) in all graphs together, counted before each is read: real
 * models have at most a few hundred, and an empty GraphProto costs 2 bytes in the file against a Graph
 * object in memory (16 million of them: 4.4 GB, issue 12).
 */
export const MAX_SUBGRAPHS = 100_000;
/** A tensor with more elements than a double can count exactly is not a real tensor. */
export const MAX_ELEMENTS = 2 ** 53;
/**
 * Nodes in all graphs and functions together. The largest exported graphs we know (LLMs, unrolled
 * decoders) have a few hundred thousand; a node costs about 1 KB through analysis against as little as
 * 5 bytes in the file (2 million minimal nodes: a 29 MB file, 17 s and 2.4 GB to analyse).
 */
export const MAX_NODES = 1_000_000;
/** Inputs, outputs and value_info entries in all graphs together (an exporter writes about one per node output). */
export const MAX_VALUE_INFOS = 2_000_000;
/** Initializers in all graphs together (one per weight; a few per node at most). */
export const MAX_INITIALIZERS = 1_000_000;
/** Dimensions of one tensor or shape: numpy allows 64, no runtime more. */
export const MAX_RANK = 64;
/**
 * Dimensions in all declared shapes together (inputs, outputs, value_info): each becomes a number or a
 * symbol. Real models declare a few per value; 4 bytes of file make one.
 */
export const MAX_DECLARED_DIMS = 4_000_000;
/** dim_param text parsed as an expression up to this length (exporters write at most a few dozen characters). */
export const MAX_DIM_EXPRESSION_CHARS = 256;
/** sequence(optional(sequence(...))) types: real ones nest two or three deep; recursion must stop somewhere. */
export const MAX_TYPE_DEPTH = 16;
/** Values in one list attribute (ints, floats, strings, tensors, graphs). */
export const MAX_ATTR_VALUES = 1 << 24;
/** Bytes of one name (node, tensor, op type, domain, dim_param, metadata): real names are under a kilobyte. */
export const MAX_NAME_BYTES = 1 << 16;
/**
 * A string attribute longer than this (an EPContext node's embedded engine, a custom op's blob) is kept as
 * "other" with a warning, not decoded: no shape rule reads a string that long.
 */
export const MAX_ATTR_STRING_BYTES = 1 << 20;

/** Counts over the whole model, checked against the limits as the reader goes. */
export interface DecodeState {
  nodes: number;
  valueInfos: number;
  initializers: number;
  declaredDims: number;
  /** dim_param text -> its parsed dimension: exporters repeat a few names ("batch", "seq") on every value. */
  dimParams: Map<string, Dim>;
  subgraphs: number;
  warnings: string[];
}

export function newDecodeState(): DecodeState {
  return { nodes: 0, valueInfos: 0, initializers: 0, declaredDims: 0, subgraphs: 0, warnings: [], dimParams: new Map() };
}

export function count(st: DecodeState, key: "nodes" | "valueInfos" | "initializers" | "declaredDims" | "subgraphs", limit: number, what: string): void {
  if (++st[key] > limit) throw new ModelFormatError(`more than ${limit} ${what}: not a model this reader accepts`);
}
