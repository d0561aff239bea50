/**
 * The layers the families share, as transformers writes them: GELU (exact, or GPT-2's tanh formula with its
 * temporaries), self-attention (fused or separate q/k/v, eager or SDPA/flash cores) and the KV cache update.
 */
import type { ArchSpec } from "./arch.js";
import { linear, mod, type LlmRun, type OpGrad, type ProgramBuilder } from "./program-builder.js";

/** GELU: one kernel, or transformers' NewGELUActivation (gelu_new), a Python formula with temporaries. */
export function gelu(p: ProgramBuilder, name: string, I: number, formula: boolean, x: string): string {
  if (!formula) return p.op(name, I, false, { type: "Gelu", reads: [x] });
  // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), in that evaluation order.
  const half = p.op(`${name}/mul_half`, I, false, { type: "Mul", reads: [x] });
  const cube = p.op(`${name}/pow`, I, false, { type: "Pow", reads: [x] });
  const scaled = p.op(`${name}/mul_c`, I, false, { type: "Mul", reads: [cube] });
  p.free(cube);
  const inner = p.op(`${name}/add`, I, false, { type: "Add", reads: [x, scaled] });
  p.free(scaled);
  const k = p.op(`${name}/mul_k`, I, false, { type: "Mul", reads: [inner] });
  p.free(inner);
  const th = p.op(`${name}/tanh`, I, false, { type: "Tanh", reads: [k] });
  p.free(k);
  const one = p.op(`${name}/add_one`, I, false, { type: "Add", reads: [th] });
  p.free(th);
  const y = p.op(`${name}/mul`, I, false, { type: "Mul", reads: [half, one] });
  p.free(half, one);
  return y;
}

/**
 * Self-attention of GPT-2 / BERT / Llama. Returns the output projection's tensor; everything else it
 * allocated is freed when it returns (its locals die), except eager attention's weights, which the caller's
 * `_` keeps (returned by the caller too): that is modelled by freeing them at the caller's next layer.
 * `x` is the attention's input (for the training model's reads).
 */
export function attention(p: ProgramBuilder, a: ArchSpec, r: LlmRun, blk: string, fusedQkv: boolean, x: string): string {
  const B = r.batch;
  const S = r.seq;
  const h = a.hidden;
  const Q = B * S * a.heads * a.headDim * r.elem;
  const KV = B * S * a.kvHeads * a.headDim * r.elem;
  const X = B * S * h * r.elem;
  const temps: string[] = [];
  const bert = a.family === "bert";
  const prefix = bert ? `bert.${mod(blk)}.self` : `transformer.${blk}.attn`;
  if (fusedQkv) temps.push(p.op(`${blk}/attn/c_attn`, Q + 2 * KV, true, { type: "MatMul", reads: [x], params: linear(`${prefix}.c_attn`, "qkv", h, a.heads * a.headDim + 2 * a.kvHeads * a.headDim, true) }));
  else {
    const names = bert ? ["query", "key", "value"] : ["q_proj", "k_proj", "v_proj"];
    temps.push(
      p.op(`${blk}/attn/q_proj`, Q, true, { type: "MatMul", reads: [x], params: linear(`${prefix}.${names[0]}`, "q", h, a.heads * a.headDim, true) }),
      p.op(`${blk}/attn/k_proj`, KV, true, { type: "MatMul", reads: [x], params: linear(`${prefix}.${names[1]}`, "k", h, a.kvHeads * a.headDim, true) }),
      p.op(`${blk}/attn/v_proj`, KV, true, { type: "MatMul", reads: [x], params: linear(`${prefix}.${names[2]}`, "v", h, a.kvHeads * a.headDim, true) }),
    );
  }
  cacheUpdate(p, a, r, blk);
  // q, k, v: views of the fused projection, or the three projections.
  const qkv = fusedQkv ? [temps[0]!, temps[0]!, temps[0]!] : [temps[0]!, temps[1]!, temps[2]!];
  const core = attnCore(p, a, r, `${blk}/attn`, Q, qkv as [string, string, string]);
  temps.push(...core.temps);
  const merged = p.op(`${blk}/attn/transpose_contiguous`, Q, false, { type: "Transpose", reads: [core.out] });
  p.free(core.out);
  // BERT's self-attention has no output projection of its own (BertSelfOutput.dense follows): this copy is a
  // view for autograd.
  const out = p.op(`${blk}/attn/o_proj`, X, true, bert
    ? { type: "Reshape", reads: [merged] }
    : { type: "MatMul", reads: [merged], params: linear(`transformer.${blk}.attn.c_proj`, "o", a.heads * a.headDim, h, true) });
  p.free(merged, ...temps);
  return out;
}

/** The layer index of a block name (`h.3`, `layers.3`, `encoder.layer.3/attention`). */
function layerIndex(blk: string): number {
  const m = /\.(\d+)/.exec(blk);
  return m ? Number(m[1]) : 0;
}

/** DynamicLayer.update: keys = cat([keys, new_keys]); the old tensor dies once the new one exists. */
export function cacheUpdate(p: ProgramBuilder, a: ArchSpec, r: LlmRun, blk: string): void {
  const c = r.cache;
  if (!c) return;
  const l = layerIndex(blk);
  const bytes = r.batch * a.kvHeads * a.headDim * (c.past + r.seq) * r.elem;
  const k = p.op(`${blk}/cache/cat_keys`, bytes);
  p.free(c.keys[l]);
  c.keys[l] = k;
  const v = p.op(`${blk}/cache/cat_values`, bytes);
  p.free(c.values[l]);
  c.values[l] = v;
}

/** The attention product by implementation: sdpa (efficient/flash kernels), flash-attn, or eager matmuls. */
export function attnCore(p: ProgramBuilder, a: ArchSpec, r: LlmRun, name: string, Q: number, [q, k, v]: [string, string, string]): { out: string; temps: string[] } {
  const B = r.batch;
  const S = r.seq;
  const lse = B * a.heads * S * 4;
  // One fused attention call: autograd saves q, k, v, the output and the log-sum-exp, never the scores.
  const fused: OpGrad = { type: ["MatMul", "Softmax", "MatMul"], reads: [q, k, v] };
  if (r.attn === "flash") {
    const out = p.op(`${name}/flash_attn`, Q, false, fused);
    const l = p.op(`${name}/softmax_lse`, lse);
    return { out, temps: [l] };
  }
  if (r.attn === "sdpa") {
    // fp16/bf16 take the flash kernel (it writes a logsumexp); fp32 the memory-efficient one.
    const out = p.op(`${name}/sdpa`, Q, false, fused);
    if (r.elem < 4) return { out, temps: [p.op(`${name}/sdpa_lse`, lse)] };
    return { out, temps: [] };
  }
  const scores = B * a.heads * S * (S + (r.cache?.past ?? 0));
  const kvRepeat = a.kvHeads < a.heads ? [p.op(`${name}/repeat_k`, Q, false, { type: "Expand", reads: [k] }), p.op(`${name}/repeat_v`, Q, false, { type: "Expand", reads: [v] })] : [];
  const mm = p.op(`${name}/matmul_qk`, scores * r.elem, true, { type: "MatMul", reads: [q, kvRepeat[0] ?? k] });
  const scaled = p.op(`${name}/scale`, scores * r.elem, false, { type: "Mul", reads: [mm] });
  p.free(mm);
  const masked = p.op(`${name}/add_mask`, scores * r.elem, false, { type: "Add", reads: [scaled] });
  p.free(scaled);
  const sm32 = p.op(`${name}/softmax_fp32`, scores * 4, false, { type: "Softmax", reads: [masked] });
  p.free(masked);
  const sm = r.elem === 4 ? sm32 : p.op(`${name}/softmax_to_dtype`, scores * r.elem, false, { type: "Cast", reads: [sm32] });
  if (sm !== sm32) p.free(sm32);
  const out = p.op(`${name}/matmul_av`, Q, true, { type: "MatMul", reads: [sm, kvRepeat[1] ?? v] });
  return { out, temps: [sm, ...kvRepeat] };
}
