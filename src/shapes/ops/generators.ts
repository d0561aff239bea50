/**
 * Shape rules: ops that create tensors (Constant, ConstantOfShape, Range, EyeLike, random ops, signal
 * windows, MelWeightMatrix). Constant and Range values are tracked: Range(0, seq) feeds position ids and
 * masks, Constant feeds every shape sub-graph.
 */
import { byteSize, dtypeFromCode, type DType } from "../../graph/dtype.js";
import { formatLimitBytes, MAX_DECLARED_TENSOR_BYTES } from "../../graph/limits.js";
import { ModelFormatError } from "../../errors.js";
import { quote } from "../../formats/quote.js";
import { add, dimToString, floorDiv, isSym, lowerBound, mul, sub, type Dim } from "../../sym/expr.js";
import { MAX_VALUE_ELEMENTS, type InferContext, type OpFamily, type OpRule, type TensorInfo } from "../types.js";
import { knownNumel, movesData, needValues, scalarValue, stepsIn } from "../util.js";

/** An optional dtype attribute (a TensorProto.DataType code), else the fallback. */
function dtypeAttr(ctx: InferContext, name: string, fallback: () => DType): DType {
  const code = ctx.int(name);
  if (code === undefined) return fallback();
  return dtypeFromCode(code) ?? ctx.error(`unknown type code ${code} in '${name}'`);
}

function needScalar(ctx: InferContext, i: number, what: string): Dim {
  const v = scalarValue(ctx, i);
  if (v === undefined) ctx.unknown(`${what} (input ${i}) is computed at run time and its value is not known`);
  return v;
}

const Constant: OpRule = {
  infer(ctx) {
    const attrs = ctx.node.attrs;
    const t = ctx.tensor("value");
    if (t) {
      // A weight held in a Constant node (paddle2onnx, spox) is a parameter like an initializer: runtimes load
      // it as one (onnxruntime turns Constant nodes into initializers), so it counts in paramBytes.
      const out: TensorInfo = { dtype: t.dtype, shape: t.dims.slice(), initializer: t };
      if (t.dtype !== "string" && t.elements <= MAX_VALUE_ELEMENTS) out.value = ctx.tensorValues(t);
      return [out];
    }
    if (attrs["value_float"]) return [{ dtype: "float32", shape: [], value: [ctx.float("value_float", 0)] }];
    if (attrs["value_floats"]) {
      const v = ctx.floats("value_floats") ?? [];
      return [{ dtype: "float32", shape: [v.length], value: v }];
    }
    if (attrs["value_int"]) return [{ dtype: "int64", shape: [], value: [ctx.int("value_int", 0)] }];
    if (attrs["value_ints"]) {
      const v = ctx.ints("value_ints") ?? [];
      return [{ dtype: "int64", shape: [v.length], value: v }];
    }
    if (attrs["value_string"]) return [{ dtype: "string", shape: [] }];
    if (attrs["value_strings"]) return [{ dtype: "string", shape: [ctx.strings("value_strings")?.length ?? 0] }];
    const sparse = attrs["sparse_value"];
    if (sparse?.type === "sparse") return [{ dtype: sparse.value.dtype, shape: sparse.value.dims.slice(), initializer: sparse.value }];
    return ctx.error("no value attribute");
  },
};

const ConstantOfShape: OpRule = {
  infer(ctx) {
    const shape = ctx.value(0) ?? ctx.unknown("the shape (input 0) is computed at run time and its values are not known");
    const t = ctx.tensor("value");
    const dtype = t?.dtype ?? "float32";
    const out: TensorInfo = { dtype, shape: shape.slice() };
    const n = knownNumel(shape);
    // A size the file states with constants (not one that grows with the user's batch or sequence) has the
    // named limit of what a file may declare.
    if (n !== undefined && ctx.inputs[0]?.initializer && dtype !== "string" && byteSize(dtype, n) > MAX_DECLARED_TENSOR_BYTES) {
      throw new ModelFormatError(`ConstantOfShape node ${quote(ctx.node.name)}: its constant shape [${shape.map(dimToString).join(", ")}] asks for ${formatLimitBytes(byteSize(dtype, n))} of ${dtype}, over the limit of ${formatLimitBytes(MAX_DECLARED_TENSOR_BYTES)} for one tensor`);
    }
    if (n !== undefined && n <= MAX_VALUE_ELEMENTS && dtype !== "string") {
      const fill = t ? (ctx.tensorValues(t)[0] ?? 0) : 0;
      out.value = new Array<Dim>(n).fill(fill);
    }
    return [out];
  },
};

/** Range's length, max(ceil((limit - start) / delta), 0), symbolic when the limit is (Range(0, seq, 1) = seq). */
export function rangeLength(ctx: InferContext, start: Dim, limit: Dim, delta: Dim): Dim {
  if (typeof delta !== "number") ctx.unknown(`delta is symbolic: ${dimToString(delta)}`);
  if (delta === 0) ctx.error("delta is 0");
  const span = sub(limit, start);
  if (typeof span === "number") return Math.max(Math.ceil(span / delta), 0);
  // A symbolic span is an integer: steps of 1/k give exactly k per unit (Range(0, seq, 0.5) = 2*seq).
  if (!Number.isInteger(delta) && Number.isInteger(1 / delta)) return mul(span, 1 / delta);
  if (!Number.isInteger(delta)) ctx.unknown(`a symbolic span ${dimToString(span)} in steps of ${delta} is not an integer count`);
  const n = stepsIn(delta > 0 ? span : sub(0, span), Math.abs(delta));
  if (lowerBound(n) < 0) ctx.warn(`assumed ${dimToString(n)} >= 0`);
  return n;
}

const Range: OpRule = {
  infer(ctx) {
    const dtype = ctx.dtype(0);
    const start = needScalar(ctx, 0, "start");
    const limit = needScalar(ctx, 1, "limit");
    const delta = needScalar(ctx, 2, "delta");
    const n = rangeLength(ctx, start, limit, delta);
    const out: TensorInfo = { dtype, shape: [n] };
    if (typeof n === "number" && n <= MAX_VALUE_ELEMENTS && typeof delta === "number") {
      const value: Dim[] = [];
      for (let k = 0; k < n; k++) value.push(isSym(start) ? add(start, k * delta) : start + k * delta);
      out.value = value;
    }
    return [out];
  },
};

/** Same shape as input 0; dtype from the `dtype` attribute, else input 0's. */
const likeInput: OpRule = {
  infer: (ctx) => [{ dtype: dtypeAttr(ctx, "dtype", () => ctx.dtype(0)), shape: ctx.shape(0).slice() }],
};

const EyeLike: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length !== 2) ctx.error(`input of rank ${s.length}, want 2`);
    return [{ dtype: dtypeAttr(ctx, "dtype", () => ctx.dtype(0)), shape: s.slice() }];
  },
};

/** RandomNormal / RandomUniform: shape and dtype from attributes (float32 by default). */
const randomFromAttrs: OpRule = {
  infer(ctx) {
    const shape = ctx.ints("shape") ?? ctx.error("no 'shape' attribute");
    return [{ dtype: dtypeAttr(ctx, "dtype", () => "float32"), shape }];
  },
};

const Multinomial: OpRule = {
  infer(ctx) {
    const s = ctx.shape(0);
    if (s.length !== 2) ctx.error(`input of rank ${s.length}, want [batch, classes]`);
    return [{ dtype: dtypeAttr(ctx, "dtype", () => "int32"), shape: [s[0]!, ctx.int("sample_size", 1)] }];
  },
};

/** Hann/Hamming/Blackman windows: a 1-D tensor of the given size. */
const window: OpRule = {
  infer(ctx) {
    const size = needScalar(ctx, 0, "size");
    return [{ dtype: dtypeAttr(ctx, "output_datatype", () => "float32"), shape: [size] }];
  },
};

const MelWeightMatrix: OpRule = {
  infer(ctx) {
    const bins = needScalar(ctx, 0, "num_mel_bins");
    const dftLength = needScalar(ctx, 1, "dft_length");
    return [{ dtype: dtypeAttr(ctx, "output_datatype", () => "float32"), shape: [add(floorDiv(dftLength, 2), 1), bins] }];
  },
};

/**
 * The experimental fills of opset 1 (ConstantFill, GivenTensorFill, from Caffe2 conversions): the shape is
 * input 0's values (input_as_shape=1), input 0's shape, or the `shape` attribute; `extra_shape` is appended.
 */
function fill(defaultType: DType): OpRule {
  return {
    infer(ctx) {
      let shape: Dim[];
      if (ctx.has(0)) shape = ctx.int("input_as_shape", 0) === 1 ? needValues(ctx, 0, "the shape") : ctx.shape(0).slice();
      else shape = ctx.ints("shape") ?? ctx.error("no input and no 'shape' attribute");
      return [{ dtype: dtypeAttr(ctx, "dtype", () => defaultType), shape: [...shape, ...(ctx.ints("extra_shape") ?? [])] }];
    },
  };
}

/** Constants, fills and ranges write values without arithmetic worth counting: 0 FLOPs. Random and signal ops compute, and stay unknown. */
export const rules: OpFamily = {
  Constant: movesData(Constant),
  ConstantOfShape: movesData(ConstantOfShape),
  Range: movesData(Range),
  EyeLike: movesData(EyeLike),
  ConstantFill: movesData(fill("float32")),
  GivenTensorFill: movesData(fill("float32")),
  Bernoulli: likeInput,
  RandomNormal: randomFromAttrs,
  RandomUniform: randomFromAttrs,
  RandomNormalLike: likeInput,
  RandomUniformLike: likeInput,
  Multinomial,
  HannWindow: window,
  HammingWindow: window,
  BlackmanWindow: window,
  MelWeightMatrix,
};
