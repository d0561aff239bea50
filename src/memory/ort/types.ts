/**
 * The shapes of the ORT CPU graph model (graph.ts builds it; the rewrites, the planner and the arena read it),
 * kept apart so the rewrite passes need not import the builder that calls them; with the one query every
 * rewrite asks (who reads a tensor).
 */
import type { DType } from "../../graph/dtype.js";
import type { Model, Node } from "../../graph/ir.js";
import type { InferenceResult } from "../../shapes/engine.js";

/** A dim as ORT's planner sees it: a value, a dim_param name, or unknown (null). */
export type KnownDim = number | string | null;

export interface OrtTensor {
  name: string;
  dtype: DType | undefined;
  /** Concrete dims; undefined when inference could not tell (counted as 0 bytes, with a warning). */
  shape: number[] | undefined;
  bytes: number;
  /** Blocked NCHWc layout (channels padded to the block size). */
  nchwc?: boolean;
  /** ORT's own graph-level shape inference can tell this shape before running (symbolic dims allowed):
   *  only such tensors take part in its buffer reuse. */
  staticShape: boolean;
  /** The dims ORT's shape inference knows (known-shapes.ts): values, dim_param names, null where unknown. */
  knownDims?: KnownDim[];
}

export interface OrtNode {
  name: string;
  /** Op type, with ORT's domain prefix for contrib ops ("nchwc.Conv", "ms.QuickGelu"). */
  op: string;
  inputs: string[];
  outputs: string[];
  /** Fused activation (Conv, Gemm). */
  activation?: string;
  /** Node attributes the NCHWc pass needs (group, kernel). */
  attrs: Node["attrs"];
}

export interface OrtGraph {
  nodes: OrtNode[];
  tensors: Map<string, OrtTensor>;
  inputs: string[];
  outputs: string[];
  /** Initializers and folded constants: never allocated at run time. */
  constants: Set<string>;
  /** Bytes of constants as ORT holds them (reordered Conv weights padded to the block). */
  constantBytes: number;
  /** Bytes of the Conv weights the NCHWc transformer rewrote into blocked copies at load. */
  reorderedWeightBytes: number;
  warnings: string[];
}

export interface OrtGraphOptions {
  /** NCHWc block size: 8 on AVX2 x86, 16 with AVX-512; 0 turns the layout transformer off (ARM). */
  nchwcBlock: number;
}


export interface RewriteContext {
  nodes: OrtNode[];
  tensors: Map<string, OrtTensor>;
  constants: Set<string>;
  outputs: Set<string>;
  model: Model;
  inference: InferenceResult;
}

/** name -> consumer nodes. */
export function consumersOf(nodes: readonly OrtNode[]): Map<string, OrtNode[]> {
  const m = new Map<string, OrtNode[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i === "") continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}
