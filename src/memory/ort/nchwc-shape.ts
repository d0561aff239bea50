/**
 * The NCHWc transformer's own shape hints (nchwc_transformer.cc, NchwcArgument::Shape): each blocked tensor
 * records, per dim, which tensor the dim was taken from, and for H and W how many stride-2 halvings it went
 * through. A Conv or pool that keeps a spatial dim (padding + 1 == kernel, or SAME auto-padding; stride 1 or
 * 2; no dilation) carries its input's; anything else starts from itself. Two blocked tensors have provably
 * equal shapes when every dim has the same origin, or ONNX shape inference gave both the same value or the
 * same dim_param (TransformBinary). Only then does an Add fuse into a Conv as its Sum input; otherwise ORT
 * adds the blocked tensors through Reshapes.
 */
import type { KnownDim } from "./known-shapes.js";
import type { OrtNode } from "./types.js";

export interface NchwcShape {
  dims: [string, string, string, string];
  shifts: [number, number];
}

export function selfShape(name: string): NchwcShape {
  return { dims: [name, name, name, name], shifts: [0, 0] };
}

/** ConvPoolShapeInference: the output's origins from a blocked input's. `kernel`: H, W of the window. */
export function convPoolShape(n: OrtNode, input: NchwcShape, output: string, kernel: readonly number[] | undefined): NchwcShape {
  const out = selfShape(output);
  out.dims[0] = input.dims[0];
  const ints = (k: string) => (n.attrs[k]?.type === "ints" ? n.attrs[k].value : undefined);
  const pads = ints("pads");
  const strides = ints("strides");
  const dilations = ints("dilations");
  if ((pads && pads.length !== 4) || (strides && strides.length !== 2) || (dilations && dilations.length !== 2) || !kernel || kernel.length !== 2) return out;
  const autoPad = n.attrs["auto_pad"]?.type === "string" ? n.attrs["auto_pad"].value : "NOTSET";
  const same = autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER";
  if (autoPad !== "NOTSET" && !same && autoPad !== "VALID") return out;
  for (let i = 0; i < 2; i++) {
    if (dilations && dilations[i] !== 1) continue;
    const stride = strides?.[i] ?? 1;
    if (stride !== 1 && stride !== 2) continue;
    const padding = autoPad === "NOTSET" && pads ? pads[i]! + pads[i + 2]! : 0;
    if (padding + 1 === kernel[i] || same) {
      out.dims[2 + i] = input.dims[2 + i]!;
      out.shifts[i] = input.shifts[i]! + stride - 1;
    }
  }
  return out;
}

/** TransformBinary's test: every dim of the same origin, or known alike by ONNX shape inference. */
export function provablyEqual(a: NchwcShape, b: NchwcShape, aKnown: readonly KnownDim[] | undefined, bKnown: readonly KnownDim[] | undefined): boolean {
  for (let i = 0; i < 4; i++) {
    if (a.dims[i] === b.dims[i] && (i < 2 || a.shifts[i - 2] === b.shifts[i - 2])) continue;
    const x = aKnown?.[i];
    const y = bKnown?.[i];
    if (typeof x === "number" && x > 0 && x === y) continue;
    if (typeof x === "string" && x === y) continue;
    return false;
  }
  return true;
}
