/**
 * Shape rules: quantization. (De)QuantizeLinear keep the input's shape and pick the output type from the
 * zero point, the output_dtype attribute or the scale; the QLinear and Integer ops compute the shape of the
 * float op they stand for (Conv, MatMul, Add...) with an integer or quantized output type. The contrib
 * QLinear* ops (domain com.microsoft) follow onnxruntime's docs/ContribOperators.md.
 */
import type { DType } from "../../graph/dtype.js";
import { dtypeFromCode } from "../../graph/dtype.js";
import { mul, product, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";
import { axis, broadcast, macFlops, numel, sumDims } from "../util.js";
import { readWindow, windowOutput } from "./conv.js";
import { matmulShape } from "./matmul.js";

const MS = "com.microsoft";

/** Output of a convolution over x [N, C, ...spatial] with weight w [M, C/group, ...kernel]. */
export function convShape(ctx: InferContext, x: readonly Dim[], w: readonly Dim[]): Dim[] {
  if (x.length < 3) ctx.error(`conv input must have rank >= 3, got ${x.length}`);
  if (w.length !== x.length) ctx.error(`conv weight rank ${w.length} differs from input rank ${x.length}`);
  const kernel = ctx.ints("kernel_shape") ?? w.slice(2);
  if (kernel.length !== x.length - 2) ctx.error(`kernel has ${kernel.length} dims for ${x.length - 2} spatial dims`);
  const spatial = windowOutput(ctx, x.slice(2), readWindow(ctx, kernel.slice()));
  return [x[0]!, w[0]!, ...spatial];
}

/** 2 * N * M * out_spatial * (C/group) * kernel: the multiply-adds of a convolution. */
export function convFlops(out: readonly Dim[], w: readonly Dim[]): Dim {
  return macFlops(product(out), product(w.slice(1)));
}

function zeroPointType(ctx: InferContext, i: number, dflt: DType): DType {
  return ctx.has(i) ? ctx.dtype(i) : dflt;
}

/** Check that a per-axis or blocked scale fits x; a mismatch is a model error, not a guess. */
function checkScale(ctx: InferContext, x: readonly Dim[], scaleIndex: number): void {
  const s = ctx.input(scaleIndex).shape;
  if (!s || s.length === 0 || (s.length === 1 && s[0] === 1)) return;
  const blockSize = ctx.opset >= 21 ? ctx.int("block_size", 0) : 0;
  const a = axis(ctx, ctx.int("axis", 1), x.length);
  if (blockSize > 0) {
    if (s.length !== x.length) ctx.error(`blocked scale must have the input's rank ${x.length}, got ${s.length}`);
    const blocks = x[a]!;
    if (typeof blocks === "number" && typeof s[a] === "number" && s[a] !== Math.ceil(blocks / blockSize)) {
      ctx.error(`scale has ${s[a]} blocks along axis ${a}, expected ceil(${blocks}/${blockSize})`);
    }
    return;
  }
  if (s.length === 1 && typeof s[0] === "number" && typeof x[a] === "number" && s[0] !== x[a]) {
    ctx.error(`per-axis scale has ${s[0]} values, axis ${a} has ${x[a]}`);
  }
}

const quantizeLinear: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    checkScale(ctx, x, 1);
    let dtype: DType = "uint8";
    const code = ctx.opset >= 21 ? ctx.int("output_dtype", 0) : 0;
    if (ctx.has(2)) dtype = ctx.dtype(2);
    else if (code !== 0) {
      const t = dtypeFromCode(code);
      if (!t) ctx.error(`unknown output_dtype ${code}`);
      dtype = t;
    }
    return [{ dtype, shape: x.slice() }];
  },
  flops: (ctx) => mul(3, numel(ctx.shape(0))),
};

const dequantizeLinear: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    checkScale(ctx, x, 1);
    // The output has the scale's type (float16/bfloat16 allowed from opset 19); opset 23 may override it.
    const code = ctx.opset >= 23 ? ctx.int("output_dtype", 0) : 0;
    let dtype: DType | undefined = ctx.input(1).dtype ?? "float32";
    if (code !== 0) dtype = dtypeFromCode(code);
    return [{ dtype, shape: x.slice() }];
  },
  flops: (ctx) => mul(2, numel(ctx.shape(0))),
};

const dynamicQuantizeLinear: OpRule = {
  infer: (ctx) => [
    { dtype: "uint8", shape: ctx.shape(0).slice() },
    { dtype: "float32", shape: [] },
    { dtype: "uint8", shape: [] },
  ],
  // A min/max pass and a quantize pass.
  flops: (ctx) => mul(5, numel(ctx.shape(0))),
};

/** Conv output shape; with channels_last (contrib ops) x and the output are NHWC. */
function convShapeLayout(ctx: InferContext, x: readonly Dim[], w: readonly Dim[]): Dim[] {
  if (ctx.int("channels_last", 0) === 0) return convShape(ctx, x, w);
  const nchw = [x[0]!, x[x.length - 1]!, ...x.slice(1, -1)];
  const out = convShape(ctx, nchw, w);
  return [out[0]!, ...out.slice(2), out[1]!];
}

/** A conv-like op: `x`/`w` input indices and how its output type is chosen. */
function convLike(xi: number, wi: number, dtype: (ctx: InferContext) => DType | undefined, domain?: string): OpRule {
  return {
    ...(domain ? { domain } : {}),
    infer: (ctx) => [{ dtype: dtype(ctx), shape: convShapeLayout(ctx, ctx.shape(xi), ctx.shape(wi)) }],
    flops: (ctx, outs) => (outs[0]?.shape ? convFlops(outs[0].shape, ctx.shape(wi)) : 0),
  };
}

/** A matmul-like op over inputs a and b. */
function matmulLike(ai: number, bi: number, dtype: (ctx: InferContext) => DType | undefined, domain?: string): OpRule {
  return {
    ...(domain ? { domain } : {}),
    infer: (ctx) => [{ dtype: dtype(ctx), shape: matmulShape(ctx, ctx.shape(ai), ctx.shape(bi)).shape }],
    flops(ctx) {
      const { m, n, k, batch } = matmulShape(ctx, ctx.shape(ai), ctx.shape(bi));
      return macFlops(m, n, k, product(batch));
    },
  };
}

/** QLinearAdd/QLinearMul (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp): broadcast, A's type. */
const qlinearBinary: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: broadcast(ctx, [ctx.shape(0), ctx.shape(3)]) }],
  flops: (_ctx, outs) => (outs[0]?.shape ? mul(4, numel(outs[0].shape)) : 0),
};

/** Elementwise contrib QLinear ops on X (input 0): same shape and type. */
const qlinearUnary: OpRule = {
  domain: MS,
  infer: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(0).slice() }],
  flops: (ctx) => mul(4, numel(ctx.shape(0))),
};

const qlinearGlobalAveragePool: OpRule = {
  domain: MS,
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    if (x.length < 3) ctx.error(`input must have rank >= 3, got ${x.length}`);
    const channelsLast = ctx.int("channels_last", 0) !== 0;
    const ones = new Array<Dim>(x.length - 2).fill(1);
    const shape = channelsLast ? [x[0]!, ...ones, x[x.length - 1]!] : [x[0]!, x[1]!, ...ones];
    return [{ dtype: ctx.dtype(0), shape }];
  },
  flops: (ctx) => numel(ctx.shape(0)),
};

/** QLinearConcat(Y_scale, Y_zp, X0, X0_scale, X0_zp, X1, ...): concat of the X's along `axis`. */
const qlinearConcat: OpRule = {
  domain: MS,
  infer(ctx: InferContext) {
    const count = (ctx.inputs.length - 2) / 3;
    if (!Number.isInteger(count) || count < 1) ctx.error(`expected 2 + 3*n inputs, got ${ctx.inputs.length}`);
    const shapes = Array.from({ length: count }, (_, k) => ctx.shape(2 + 3 * k));
    const first = shapes[0]!;
    const a = axis(ctx, ctx.int("axis", 0), first.length);
    for (const s of shapes) if (s.length !== first.length) ctx.error("inputs have different ranks");
    const shape = first.slice();
    shape[a] = sumDims(shapes.map((s) => s[a]!));
    return [{ dtype: ctx.dtype(1), shape }];
  },
};

/**
 * QGemm (com.microsoft): A, a_scale, a_zp, B, b_scale, b_zp, C?, y_scale?, y_zp?. Y is (M, N): quantized
 * (y_zp's type, uint8 by default) when y_scale is given, else float32.
 */
const qgemm: OpRule = {
  domain: MS,
  infer(ctx: InferContext) {
    const a = ctx.shape(0);
    const b = ctx.shape(3);
    if (a.length !== 2 || b.length !== 2) ctx.error(`A and B must be 2-D, got ranks ${a.length} and ${b.length}`);
    const [m, k] = ctx.int("transA", 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
    const [k2, n] = ctx.int("transB", 0) ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
    if (typeof k === "number" && typeof k2 === "number" && k !== k2) ctx.error(`inner dims ${k} and ${k2} differ`);
    const dtype: DType = ctx.has(7) ? zeroPointType(ctx, 8, "uint8") : "float32";
    return [{ dtype, shape: [m, n] }];
  },
  flops(ctx, outs) {
    const a = ctx.shape(0);
    const k = ctx.int("transA", 0) ? a[0]! : a[a.length - 1]!;
    return outs[0]?.shape ? macFlops(product(outs[0].shape), k) : 0;
  },
};

/** MatMulIntegerToFloat / DynamicQuantizeMatMul: int8 matmul with a float result (the scale's type). */
const toFloat = (scaleIndex: number) => (ctx: InferContext) => ctx.input(scaleIndex).dtype ?? "float32";

export const rules: OpFamily = {
  QuantizeLinear: [quantizeLinear, { ...quantizeLinear, domain: MS }],
  DequantizeLinear: [dequantizeLinear, { ...dequantizeLinear, domain: MS }],
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  QLinearConv: [
    convLike(0, 3, (ctx) => zeroPointType(ctx, 7, "uint8")),
    convLike(0, 3, (ctx) => zeroPointType(ctx, 7, "uint8"), MS),
  ],
  ConvInteger: convLike(0, 1, () => "int32"),
  QLinearMatMul: matmulLike(0, 3, (ctx) => zeroPointType(ctx, 7, "uint8")),
  MatMulInteger: [matmulLike(0, 1, () => "int32"), matmulLike(0, 1, () => "int32", MS)],
  MatMulIntegerToFloat: matmulLike(0, 1, toFloat(2), MS),
  DynamicQuantizeMatMul: matmulLike(0, 1, toFloat(0), MS),
  QGemm: qgemm,
  QLinearAdd: qlinearBinary,
  QLinearMul: qlinearBinary,
  QLinearSigmoid: qlinearUnary,
  QLinearLeakyRelu: qlinearUnary,
  QLinearSoftmax: qlinearUnary,
  QLinearGlobalAveragePool: qlinearGlobalAveragePool,
  QLinearConcat: qlinearConcat,
};
