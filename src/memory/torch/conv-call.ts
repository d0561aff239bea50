/**
 * A Conv node as the cuDNN call PyTorch makes from it: the one place the workspace models (forward, benchmark
 * trials, backward) read a convolution's shapes from.
 */
import type { DType } from "../../graph/dtype.js";
import { isFloat } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";

/** One convolution call as cuDNN sees it: NCHW input, KCRS filter, NKPQ output; a 1-D convolution has H = 1 (and
 * stride and dilation 1 along it). */
export interface ConvCall {
  x: number[];
  w: number[];
  y: number[];
  strides: number[];
  dilations: number[];
  group: number;
  /** The element type it runs in (after any --dtype cast). */
  dtype: DType;
}

/**
 * A graph Conv as the call PyTorch makes: shapes from inference, the dtype after the --dtype cast (float
 * tensors only). Undefined when a shape is not concrete or the convolution is not 1-D/2-D.
 */
export function convCall(conv: Node, values: Map<string, TensorInfo>, cast: DType | undefined): ConvCall | undefined {
  const xi = values.get(conv.inputs[0] ?? "");
  const x = concrete(xi?.shape);
  const w = concrete(values.get(conv.inputs[1] ?? "")?.shape);
  const y = concrete(values.get(conv.outputs[0] ?? "")?.shape);
  if (!xi?.dtype || !x || !w || !y || x.length !== w.length || x.length !== y.length) return undefined;
  if (x.length !== 3 && x.length !== 4) return undefined;
  // PyTorch's cuDNN path runs a 1-D convolution as a 2-D one over an H of 1.
  const as2d = (s: number[]) => (s.length === 3 ? [s[0]!, s[1]!, 1, s[2]!] : s);
  const ints = (name: string, rank: number): number[] => {
    const a = conv.attrs[name];
    return a?.type === "ints" ? a.value : new Array<number>(rank).fill(1);
  };
  const group = conv.attrs["group"]?.type === "int" ? conv.attrs["group"].value : 1;
  const dtype = cast && isFloat(xi.dtype) ? cast : xi.dtype;
  const pairs = (v: number[]) => (v.length === 1 ? [1, v[0]!] : v);
  return { x: as2d(x), w: as2d(w), y: as2d(y), strides: pairs(ints("strides", x.length - 2)), dilations: pairs(ints("dilations", x.length - 2)), group, dtype };
}

function concrete(shape: TensorInfo["shape"] | undefined): number[] | undefined {
  if (!shape || !shape.every((d) => typeof d === "number")) return undefined;
  return shape as number[];
}

