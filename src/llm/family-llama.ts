/** The Llama family (Llama, Mistral, Qwen2, Qwen3: LlamaForCausalLM and kin) as an allocation program: RMSNorm upcast to fp32, rotary embeddings, gated MLP. */
import type { ArchSpec } from "./arch.js";
import { attnCore, cacheUpdate } from "./blocks.js";
import { linear, others, type Forward, type LlmParam, type LlmRun, type ProgramBuilder } from "./program-builder.js";


/** LlamaRMSNorm: upcast to fp32, pow, mean, rsqrt-multiply, cast back, weight multiply. */
function rmsNorm(p: ProgramBuilder, name: string, X: number, elem: number, x: string, weight: LlmParam[]): string {
  const f32 = (X / elem) * 4;
  const up = elem === 4 ? undefined : p.op(`${name}/to_fp32`, f32, false, { type: "Cast", reads: [x] });
  const src = up ?? x;
  // pow saves its input; the rsqrt multiply then saves the same input and a per-row scalar.
  const pow = p.op(`${name}/pow`, f32, false, { type: "Pow", reads: [src] });
  p.free(pow);
  const normed = p.op(`${name}/mul_rsqrt`, f32, false, { type: "Mul", reads: [src] });
  p.free(up);
  const down = elem === 4 ? undefined : p.op(`${name}/to_dtype`, X, false, { type: "Cast", reads: [normed] });
  // weight * hidden: the weight's gradient needs the normalised input (the parameter is the second operand).
  const y = p.op(`${name}/mul_weight`, X, false, { type: "Mul", reads: [down ?? normed], params: weight });
  // `return self.weight * hidden_states.to(input_dtype)`: the fp32 `hidden_states` local lives until the return.
  p.free(down, normed);
  return y;
}

/** Rotary embedding of q or k: q*cos + rotate_half(q)*sin (cos and sin need no gradient: nothing of q is saved). */
function rope(p: ProgramBuilder, name: string, T: number, x: string): string {
  const c = p.op(`${name}/mul_cos`, T, false, { type: "Mul", reads: [x] });
  const neg = p.op(`${name}/neg`, T / 2, false, { type: "Neg", reads: [x] });
  const rot = p.op(`${name}/cat`, T, false, { type: "Concat", reads: [neg, x] });
  p.free(neg);
  const s = p.op(`${name}/mul_sin`, T, false, { type: "Mul", reads: [rot] });
  p.free(rot);
  const y = p.op(`${name}/add`, T, false, { type: "Add", reads: [c, s] });
  p.free(c, s);
  return y;
}

/** LlamaForCausalLM.forward (Llama, Mistral, Qwen2/3). */
export function llama(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const B = r.batch;
  const S = r.seq;
  const h = a.hidden;
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  const X = B * S * h * r.elem;
  const I = B * S * a.intermediate * r.elem;
  const Q = B * S * q * r.elem;
  const KV = B * S * kv * r.elem;
  const embed = others("model.embed_tokens", ["weight", a.vocab * h]);
  const cachePos = p.op("cache_position", S * 8);
  const emb = p.op("embed_tokens", X, false, { type: "Gather", reads: ["input_ids"], params: a.tieEmbeddings ? [] : embed });
  const mask = r.attn === "eager" ? p.op("causal_mask", B * S * (S + (r.cache?.past ?? 0)) * r.elem) : undefined;
  const rot = B * S * a.headDim;
  const freqs = p.op("rotary_emb/freqs", rot * 2);
  const cat = p.op("rotary_emb/cat", rot * 4);
  p.free(freqs);
  const cos32 = p.op("rotary_emb/cos", rot * 4);
  const sin32 = p.op("rotary_emb/sin", rot * 4);
  p.free(cat);
  const cos = r.elem === 4 ? cos32 : p.op("rotary_emb/cos_to_dtype", rot * r.elem);
  const sin = r.elem === 4 ? sin32 : p.op("rotary_emb/sin_to_dtype", rot * r.elem);
  if (cos !== cos32) p.free(cos32, sin32);
  // Every layer's rotary multiplications save cos and sin for backward.
  p.heldForBackward.push(cos, sin);
  let x = emb;
  let keptWeights: string[] = [];
  for (let l = 0; l < a.layers; l++) {
    const blk = `layers.${l}`;
    const m = `model.layers.${l}`;
    const n1 = rmsNorm(p, `${blk}/input_layernorm`, X, r.elem, x, others(`${m}.input_layernorm`, ["weight", h]));
    const qp = p.op(`${blk}/self_attn/q_proj`, Q, true, { type: "MatMul", reads: [n1], params: linear(`${m}.self_attn.q_proj`, "q", h, q, a.qkvBias) });
    const k = p.op(`${blk}/self_attn/k_proj`, KV, true, { type: "MatMul", reads: [n1], params: linear(`${m}.self_attn.k_proj`, "k", h, kv, a.qkvBias) });
    const v = p.op(`${blk}/self_attn/v_proj`, KV, true, { type: "MatMul", reads: [n1], params: linear(`${m}.self_attn.v_proj`, "v", h, kv, a.qkvBias) });
    let qn: string | undefined;
    let kn: string | undefined;
    if (a.qkNorm) {
      qn = rmsNorm(p, `${blk}/self_attn/q_norm`, Q, r.elem, qp, others(`${m}.self_attn.q_norm`, ["weight", a.headDim]));
      kn = rmsNorm(p, `${blk}/self_attn/k_norm`, KV, r.elem, k, others(`${m}.self_attn.k_norm`, ["weight", a.headDim]));
    }
    const qe = rope(p, `${blk}/self_attn/rope_q`, Q, qn ?? qp);
    const ke = rope(p, `${blk}/self_attn/rope_k`, KV, kn ?? k);
    p.free(qp, k, qn, kn);
    cacheUpdate(p, a, r, blk);
    const core = attnCore(p, a, r, `${blk}/self_attn`, Q, [qe, ke, v]);
    const merged = p.op(`${blk}/self_attn/transpose_contiguous`, Q, false, { type: "Transpose", reads: [core.out] });
    p.free(core.out);
    const o = p.op(`${blk}/self_attn/o_proj`, X, true, { type: "MatMul", reads: [merged], params: linear(`${m}.self_attn.o_proj`, "o", q, h, a.outBias) });
    p.free(merged, qe, ke, v, ...keptWeights);
    // Eager attention returns its weights; the decoder layer's `_` holds them until it returns.
    keptWeights = r.attn === "eager" ? core.temps : [];
    if (r.attn !== "eager") p.free(...core.temps);
    p.free(n1);
    const h1 = p.op(`${blk}/add`, X, false, { type: "Add", reads: [x, o] });
    p.free(o);
    const n2 = rmsNorm(p, `${blk}/post_attention_layernorm`, X, r.elem, h1, others(`${m}.post_attention_layernorm`, ["weight", h]));
    const gate = p.op(`${blk}/mlp/gate_proj`, I, true, { type: "MatMul", reads: [n2], params: linear(`${m}.mlp.gate_proj`, "gate", h, a.intermediate, a.mlpBias) });
    // SiLU's backward reads its input (silu_backward(grad, self)).
    const act = p.op(`${blk}/mlp/act_fn`, I, false, { type: "Swish", reads: [gate] });
    p.free(gate);
    const up = p.op(`${blk}/mlp/up_proj`, I, true, { type: "MatMul", reads: [n2], params: linear(`${m}.mlp.up_proj`, "up", h, a.intermediate, a.mlpBias) });
    const mul = p.op(`${blk}/mlp/mul`, I, false, { type: "Mul", reads: [act, up] });
    p.free(act, up);
    const down = p.op(`${blk}/mlp/down_proj`, X, true, { type: "MatMul", reads: [mul], params: linear(`${m}.mlp.down_proj`, "down", a.intermediate, h, a.mlpBias) });
    p.free(mul);
    const y = p.op(`${blk}/add_1`, X, false, { type: "Add", reads: [h1, down] });
    p.free(n2, down, h1, ...keptWeights);
    keptWeights = [];
    if (x !== emb) p.free(x);
    x = y;
  }
  const norm = rmsNorm(p, "norm", X, r.elem, x, others("model.norm", ["weight", h]));
  p.free(x, emb, mask, cos, sin, cachePos);
  const logitsBytes = B * (r.logitsForAll ? S : 1) * a.vocab * r.elem;
  const head = linear(a.tieEmbeddings ? "model.embed_tokens" : "lm_head", "lm_head", h, a.vocab, false);
  const logits = p.op("lm_head", logitsBytes, true, { type: "MatMul", reads: [norm], params: head });
  p.free(norm);
  return { outputs: [logits], outputBytes: logitsBytes };
}
