/**
 * Shape rules: recurrent layers (RNN, GRU, LSTM). Shapes follow the ONNX spec: X is [seq, batch, input]
 * (layout 0) or [batch, seq, input] (layout 1, opset 14+); W is [dirs, gates*hidden, input] and R is
 * [dirs, gates*hidden, hidden]. Every output is optional; an omitted one is simply not produced.
 */
import { add, mul, product, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule, TensorInfo } from "../types.js";

interface RnnDims {
  seq: Dim;
  batch: Dim;
  input: Dim;
  hidden: Dim;
  dirs: number;
  layout: number;
}

function rnnDims(ctx: InferContext, gates: number): RnnDims {
  const x = ctx.shape(0);
  if (x.length !== 3) ctx.error(`X must have rank 3, got ${x.length}`);
  const layout = ctx.opset >= 14 ? ctx.int("layout", 0) : 0;
  const [seq, batch] = layout === 0 ? [x[0]!, x[1]!] : [x[1]!, x[0]!];
  const direction = ctx.string("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) ctx.error(`unknown direction '${direction}'`);
  const dirs = direction === "bidirectional" ? 2 : 1;
  let hidden: Dim | undefined = ctx.int("hidden_size");
  if (hidden === undefined) {
    // hidden_size is optional in the spec: R's last dim is the hidden size.
    const r = ctx.input(2).shape;
    if (!r || r.length !== 3) ctx.unknown("hidden_size attribute absent and R's shape unknown");
    hidden = r[2]!;
  }
  const w = ctx.input(1).shape;
  if (w && w.length === 3 && typeof w[0] === "number" && w[0] !== dirs) {
    ctx.error(`W has ${w[0]} directions, direction '${direction}' needs ${dirs}`);
  }
  if (w && w.length === 3 && typeof w[1] === "number" && typeof hidden === "number" && w[1] !== gates * hidden) {
    ctx.error(`W's second dim is ${w[1]}, expected ${gates}*hidden_size = ${gates * hidden}`);
  }
  return { seq, batch, input: x[2]!, hidden, dirs, layout };
}

/** Y, Y_h (and Y_c for LSTM): outputs past `outputs` declared are not produced. */
function recurrent(gates: number, states: number): OpRule {
  return {
    infer(ctx) {
      const d = rnnDims(ctx, gates);
      const dtype = ctx.dtype(0);
      const y: TensorInfo = {
        dtype,
        shape: d.layout === 0 ? [d.seq, d.dirs, d.batch, d.hidden] : [d.batch, d.seq, d.dirs, d.hidden],
      };
      const state = (): TensorInfo => ({
        dtype,
        shape: d.layout === 0 ? [d.dirs, d.batch, d.hidden] : [d.batch, d.dirs, d.hidden],
      });
      return [y, ...Array.from({ length: states }, state)].slice(0, Math.max(1, ctx.outputCount));
    },
    /**
     * Per step and direction: the input and recurrent projections, 2*gates*hidden*(input+hidden) each
     * batch row, plus about one op per gate element for biases and activations.
     */
    flops(ctx) {
      const d = rnnDims(ctx, gates);
      const perRow = add(mul(2 * gates, mul(d.hidden, add(d.input, d.hidden))), mul(gates * 3, d.hidden));
      return mul(product([d.seq, d.batch, d.dirs]), perRow);
    },
  };
}

export const rules: OpFamily = {
  RNN: recurrent(1, 1),
  GRU: recurrent(3, 1),
  LSTM: recurrent(4, 2),
};
