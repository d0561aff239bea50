/**
 * Builds the allocation program of a HF transformers model in eager PyTorch, from its architecture alone:
 * every tensor the forward allocates, in order, and when the last Python reference to it dies. It follows
 * what transformers' modeling code does (GPT-2, BERT, the Llama family): locals live until their function
 * returns or rebinds them; `inputs_embeds` and BERT's `embedding_output` stay referenced for the whole forward;
 * GELU-tanh in GPT-2 is a Python formula with temporaries; RMSNorm upcasts to fp32.
 * The program runs through the caching allocator simulation like any exported graph.
 */
import type { EagerOp, EagerProgram } from "../memory/torch/eager.js";
import type { ArchSpec } from "./arch.js";

export type AttnImpl = "eager" | "sdpa" | "flash";

export interface LlmRun {
  batch: number;
  /** Tokens fed in this forward. */
  seq: number;
  /** Bytes per element of the model dtype (4 fp32, 2 fp16/bf16). */
  elem: number;
  attn: AttnImpl;
  /** Causal LMs: compute logits for every position (a plain forward) or only the last (generate's prefill). */
  logitsForAll: boolean;
  /** Generation: the KV cache (DynamicCache) this forward appends to, and the tokens already in it. */
  cache?: KvCache;
}

/** DynamicCache: per layer, the ids of the K and V tensors; each update is torch.cat (a new, longer tensor). */
export interface KvCache {
  keys: (string | undefined)[];
  values: (string | undefined)[];
  past: number;
}

/** Ids are unique per tensor; `free` records the op after which the last reference dies. */
export class ProgramBuilder {
  readonly ops: EagerOp[] = [];
  readonly freeAfter = new Map<string, number>();
  private n = 0;

  /** One aten op producing one tensor of `bytes` (0 bytes: a view, nothing allocated). */
  op(name: string, bytes: number, cublas = false): string {
    const id = `${name}#${this.n++}`;
    this.ops.push({ layer: name, opTypes: [name.split("/").pop() ?? name], path: name.split("/"), reads: [], allocs: bytes > 0 ? [{ id, bytes, transient: false, what: "output" }] : [], convs: [], usesCublas: cublas });
    if (bytes <= 0) this.freeAfter.set(id, this.ops.length - 1);
    return id;
  }

  free(...ids: (string | undefined)[]): void {
    for (const id of ids) if (id !== undefined && !this.freeAfter.has(id)) this.freeAfter.set(id, Math.max(0, this.ops.length - 1));
  }

  /** Marks tensors the forward returns (they live on after it). */
  keep(...ids: string[]): void {
    for (const id of ids) this.freeAfter.set(id, Number.POSITIVE_INFINITY);
  }

  build(weights: number[], inputBytes: number, outputBytes: number, warnings: string[] = []): EagerProgram {
    return { ops: this.ops, freeAfter: this.freeAfter, inputBytes, outputBytes, weights, warnings };
  }
}

/** Every parameter tensor's bytes, one allocation each, as `model.to(device, dtype)` makes them. */
export function parameterTensors(a: ArchSpec, elem: number): number[] {
  const h = a.hidden;
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  const out: number[] = [];
  const t = (...sizes: number[]) => sizes.forEach((s) => out.push(s * elem));
  if (a.family === "gpt2") {
    t(a.vocab * h, a.maxPositions * h);
    for (let l = 0; l < a.layers; l++) t(h, h, h * 3 * h, 3 * h, h * h, h, h, h, h * a.intermediate, a.intermediate, a.intermediate * h, h);
    t(h, h);
    if (!a.tieEmbeddings) t(a.vocab * h);
  } else if (a.family === "bert") {
    t(a.vocab * h, a.maxPositions * h, a.typeVocab * h, h, h);
    for (let l = 0; l < a.layers; l++) {
      t(h * h, h, h * h, h, h * h, h, h * h, h, h, h, h * a.intermediate, a.intermediate, a.intermediate * h, h, h, h);
    }
    if (a.pooler) t(h * h, h);
  } else {
    t(a.vocab * h);
    for (let l = 0; l < a.layers; l++) {
      t(h * q, h * kv, h * kv, q * h, h * a.intermediate, h * a.intermediate, a.intermediate * h, h, h);
      if (a.qkvBias) t(q, kv, kv);
      if (a.outBias) t(h);
      if (a.mlpBias) t(a.intermediate, a.intermediate, h);
      if (a.qkNorm) t(a.headDim, a.headDim);
    }
    t(h);
    if (!a.tieEmbeddings) t(a.vocab * h);
  }
  return out;
}

/** The forward's allocation program (inference, no KV cache). */
export function forwardProgram(a: ArchSpec, run: LlmRun): EagerProgram {
  const p = new ProgramBuilder();
  const out = forward(p, a, run);
  p.keep(...out.outputs);
  return p.build(parameterTensors(a, run.elem), run.batch * run.seq * 8, out.outputBytes);
}

function forward(p: ProgramBuilder, a: ArchSpec, run: LlmRun): Forward {
  return a.family === "gpt2" ? gpt2(p, a, run) : a.family === "bert" ? bert(p, a, run) : llama(p, a, run);
}

export interface GenerateRun {
  batch: number;
  prompt: number;
  newTokens: number;
  elem: number;
  attn: AttnImpl;
}

/**
 * model.generate(ids, max_new_tokens=N) with greedy search and a DynamicCache: a prefill forward that keeps
 * only the last position's logits, then N-1 one-token forwards; each step copies the logits to fp32, runs
 * the logits processors (a clone), appends the token (torch.cat on input_ids and the attention mask).
 */
export function generateProgram(a: ArchSpec, g: GenerateRun): EagerProgram {
  if (a.family === "bert") throw new Error("generation needs a decoder (bert is an encoder)");
  const p = new ProgramBuilder();
  const cache: KvCache = { keys: [], values: [], past: 0 };
  const V = g.batch * a.vocab;
  let ids: string | undefined;
  let mask = p.op("generate/attention_mask", g.batch * g.prompt * 8);
  // Decoding steps differ only in the cache length, so the program runs the prefill, grows the cache to the
  // length the last step starts from (one torch.cat per layer, as each step does), then that last step:
  // the peak is at one of those two, and the program stays small at any number of new tokens.
  const steps = g.newTokens <= 3 ? [...Array(g.newTokens).keys()] : [0, 1, g.newTokens - 1];
  for (const t of steps) {
    if (t === g.newTokens - 1 && t > 1 && cache.past < g.prompt + t - 1) {
      cache.past = g.prompt + t - 1;
      for (let l = 0; l < a.layers; l++) {
        const bytes = g.batch * a.kvHeads * a.headDim * cache.past * g.elem;
        const k = p.op(`layers.${l}/cache/grow_keys`, bytes);
        p.free(cache.keys[l]);
        cache.keys[l] = k;
        const v = p.op(`layers.${l}/cache/grow_values`, bytes);
        p.free(cache.values[l]);
        cache.values[l] = v;
      }
    }
    const seq = t === 0 ? g.prompt : 1;
    const out = forward(p, a, { batch: g.batch, seq, elem: g.elem, attn: g.attn, logitsForAll: false, cache });
    cache.past += seq;
    const scores = p.op("generate/logits_to_fp32", V * 4);
    const processed = p.op("generate/logits_processor", V * 4);
    const next = p.op("generate/argmax", g.batch * 8);
    p.free(scores, processed);
    const len = g.prompt + t + 1;
    const newIds = p.op("generate/cat_input_ids", g.batch * len * 8);
    const newMask = p.op("generate/cat_attention_mask", g.batch * len * 8);
    p.free(next, ids, mask, ...out.outputs);
    ids = newIds;
    mask = newMask;
  }
  p.free(mask, ...cache.keys, ...cache.values);
  p.keep(ids!);
  return p.build(parameterTensors(a, g.elem), g.batch * g.prompt * 8, g.batch * (g.prompt + g.newTokens) * 8);
}

interface Forward {
  outputs: string[];
  outputBytes: number;
}

/** GPT2LMHeadModel.forward (use_cache=False). */
function gpt2(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const X = r.batch * r.seq * a.hidden * r.elem;
  const I = r.batch * r.seq * a.intermediate * r.elem;
  const pos = p.op("wpe/arange", r.seq * 8);
  const emb = p.op("wte/embedding", X);
  const pemb = p.op("wpe/embedding", r.seq * a.hidden * r.elem);
  let x = p.op("embeddings/add", X);
  for (let l = 0; l < a.layers; l++) {
    const blk = `h.${l}`;
    const ln1 = p.op(`${blk}/ln_1`, X);
    const attnOut = attention(p, a, r, blk, true);
    const sum1 = p.op(`${blk}/add`, X);
    p.free(ln1);
    const ln2 = p.op(`${blk}/ln_2`, X);
    const fc = p.op(`${blk}/mlp/c_fc`, I, true);
    const act = gelu(p, `${blk}/mlp/act`, I, a.modelType === "gpt2");
    const proj = p.op(`${blk}/mlp/c_proj`, X, true);
    p.free(act);
    const y = p.op(`${blk}/add_1`, X);
    p.free(ln2, fc, proj, attnOut, sum1, x);
    x = y;
  }
  const lnf = p.op("ln_f", X);
  p.free(x, emb, pemb, pos);
  const logitsBytes = r.batch * (r.logitsForAll ? r.seq : 1) * a.vocab * r.elem;
  const logits = p.op("lm_head", logitsBytes, true);
  p.free(lnf);
  return { outputs: [logits], outputBytes: logitsBytes };
}

/** GELU: one kernel, or transformers' NewGELUActivation (gelu_new), a Python formula with temporaries. */
function gelu(p: ProgramBuilder, name: string, I: number, formula: boolean): string {
  if (!formula) return p.op(name, I);
  const half = p.op(`${name}/mul_half`, I);
  const cube = p.op(`${name}/pow`, I);
  const scaled = p.op(`${name}/mul_c`, I);
  p.free(cube);
  const inner = p.op(`${name}/add`, I);
  p.free(scaled);
  const k = p.op(`${name}/mul_k`, I);
  p.free(inner);
  const th = p.op(`${name}/tanh`, I);
  p.free(k);
  const one = p.op(`${name}/add_one`, I);
  p.free(th);
  const y = p.op(`${name}/mul`, I);
  p.free(half, one);
  return y;
}

/**
 * Self-attention of GPT-2 / BERT / Llama. Returns the output projection's tensor; everything else it
 * allocated is freed when it returns (its locals die), except eager attention's weights, which the caller's
 * `_` keeps (returned by the caller too): that is modelled by freeing them at the caller's next layer.
 */
function attention(p: ProgramBuilder, a: ArchSpec, r: LlmRun, blk: string, fusedQkv: boolean): string {
  const B = r.batch;
  const S = r.seq;
  const Q = B * S * a.heads * a.headDim * r.elem;
  const KV = B * S * a.kvHeads * a.headDim * r.elem;
  const X = B * S * a.hidden * r.elem;
  const temps: string[] = [];
  if (fusedQkv) temps.push(p.op(`${blk}/attn/c_attn`, Q + 2 * KV, true));
  else temps.push(p.op(`${blk}/attn/q_proj`, Q, true), p.op(`${blk}/attn/k_proj`, KV, true), p.op(`${blk}/attn/v_proj`, KV, true));
  cacheUpdate(p, a, r, blk);
  const core = attnCore(p, a, r, `${blk}/attn`, Q);
  temps.push(...core.temps);
  const merged = p.op(`${blk}/attn/transpose_contiguous`, Q);
  p.free(core.out);
  const out = p.op(`${blk}/attn/o_proj`, X, true);
  p.free(merged, ...temps);
  return out;
}

/** The layer index of a block name (`h.3`, `layers.3`, `encoder.layer.3/attention`). */
function layerIndex(blk: string): number {
  const m = /\.(\d+)/.exec(blk);
  return m ? Number(m[1]) : 0;
}

/** DynamicLayer.update: keys = cat([keys, new_keys]); the old tensor dies once the new one exists. */
function cacheUpdate(p: ProgramBuilder, a: ArchSpec, r: LlmRun, blk: string): void {
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
function attnCore(p: ProgramBuilder, a: ArchSpec, r: LlmRun, name: string, Q: number): { out: string; temps: string[] } {
  const B = r.batch;
  const S = r.seq;
  const lse = B * a.heads * S * 4;
  if (r.attn === "flash") {
    const out = p.op(`${name}/flash_attn`, Q);
    const l = p.op(`${name}/softmax_lse`, lse);
    return { out, temps: [l] };
  }
  if (r.attn === "sdpa") {
    // fp16/bf16 take the flash kernel (it writes a logsumexp); fp32 the memory-efficient one.
    const out = p.op(`${name}/sdpa`, Q);
    if (r.elem < 4) return { out, temps: [p.op(`${name}/sdpa_lse`, lse)] };
    return { out, temps: [] };
  }
  const scores = B * a.heads * S * (S + (r.cache?.past ?? 0));
  const kvRepeat = a.kvHeads < a.heads ? [p.op(`${name}/repeat_k`, Q), p.op(`${name}/repeat_v`, Q)] : [];
  const mm = p.op(`${name}/matmul_qk`, scores * r.elem, true);
  const scaled = p.op(`${name}/scale`, scores * r.elem);
  p.free(mm);
  const masked = p.op(`${name}/add_mask`, scores * r.elem);
  p.free(scaled);
  const sm32 = p.op(`${name}/softmax_fp32`, scores * 4);
  p.free(masked);
  const sm = r.elem === 4 ? sm32 : p.op(`${name}/softmax_to_dtype`, scores * r.elem);
  if (sm !== sm32) p.free(sm32);
  const out = p.op(`${name}/matmul_av`, Q, true);
  return { out, temps: [sm, ...kvRepeat] };
}

/** BertModel.forward (sdpa or eager attention, no padding mask). */
function bert(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const X = r.batch * r.seq * a.hidden * r.elem;
  const I = r.batch * r.seq * a.intermediate * r.elem;
  const ones = p.op("attention_mask/ones", r.batch * r.seq * r.elem);
  const we = p.op("embeddings/word", X);
  const te = p.op("embeddings/token_type", X);
  const sum = p.op("embeddings/add", X);
  const pe = p.op("embeddings/position", r.seq * a.hidden * r.elem);
  const embOut = p.op("embeddings/LayerNorm", X);
  p.free(we, te, sum, pe);
  let x = embOut;
  for (let l = 0; l < a.layers; l++) {
    const blk = `encoder.layer.${l}`;
    const selfOut = attention(p, a, r, `${blk}/attention`, false);
    const dense = p.op(`${blk}/attention/output/dense`, X, true);
    const add = p.op(`${blk}/attention/output/add`, X);
    const attnOut = p.op(`${blk}/attention/output/LayerNorm`, X);
    p.free(dense, add, selfOut);
    const inter = p.op(`${blk}/intermediate/dense`, I, true);
    const act = gelu(p, `${blk}/intermediate/gelu`, I, false);
    p.free(inter);
    const od = p.op(`${blk}/output/dense`, X, true);
    const oadd = p.op(`${blk}/output/add`, X);
    const y = p.op(`${blk}/output/LayerNorm`, X);
    p.free(act, od, oadd, attnOut);
    if (x !== embOut) p.free(x);
    x = y;
  }
  const outputs = [x];
  let outputBytes = X;
  if (a.pooler) {
    const pooled = p.op("pooler/dense", r.batch * a.hidden * r.elem, true);
    const tanh = p.op("pooler/tanh", r.batch * a.hidden * r.elem);
    p.free(pooled);
    outputs.push(tanh);
    outputBytes += r.batch * a.hidden * r.elem;
  }
  p.free(embOut, ones);
  return { outputs, outputBytes };
}

/** LlamaRMSNorm: upcast to fp32, pow, mean, rsqrt-multiply, cast back, weight multiply. */
function rmsNorm(p: ProgramBuilder, name: string, X: number, elem: number): string {
  const f32 = (X / elem) * 4;
  const up = elem === 4 ? undefined : p.op(`${name}/to_fp32`, f32);
  const pow = p.op(`${name}/pow`, f32);
  p.free(pow);
  const normed = p.op(`${name}/mul_rsqrt`, f32);
  p.free(up);
  const down = elem === 4 ? undefined : p.op(`${name}/to_dtype`, X);
  if (down) p.free(normed);
  const y = p.op(`${name}/mul_weight`, X);
  p.free(down ?? normed);
  return y;
}

/** Rotary embedding of q or k: q*cos + rotate_half(q)*sin. */
function rope(p: ProgramBuilder, name: string, T: number): string {
  const c = p.op(`${name}/mul_cos`, T);
  const neg = p.op(`${name}/neg`, T / 2);
  const rot = p.op(`${name}/cat`, T);
  p.free(neg);
  const s = p.op(`${name}/mul_sin`, T);
  p.free(rot);
  const y = p.op(`${name}/add`, T);
  p.free(c, s);
  return y;
}

/** LlamaForCausalLM.forward (Llama, Mistral, Qwen2/3). */
function llama(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const B = r.batch;
  const S = r.seq;
  const X = B * S * a.hidden * r.elem;
  const I = B * S * a.intermediate * r.elem;
  const Q = B * S * a.heads * a.headDim * r.elem;
  const KV = B * S * a.kvHeads * a.headDim * r.elem;
  const cachePos = p.op("cache_position", S * 8);
  const emb = p.op("embed_tokens", X);
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
  let x = emb;
  let keptWeights: string[] = [];
  for (let l = 0; l < a.layers; l++) {
    const blk = `layers.${l}`;
    const n1 = rmsNorm(p, `${blk}/input_layernorm`, X, r.elem);
    const q = p.op(`${blk}/self_attn/q_proj`, Q, true);
    const k = p.op(`${blk}/self_attn/k_proj`, KV, true);
    const v = p.op(`${blk}/self_attn/v_proj`, KV, true);
    let qn: string | undefined;
    let kn: string | undefined;
    if (a.qkNorm) {
      qn = rmsNorm(p, `${blk}/self_attn/q_norm`, Q, r.elem);
      kn = rmsNorm(p, `${blk}/self_attn/k_norm`, KV, r.elem);
    }
    const qe = rope(p, `${blk}/self_attn/rope_q`, Q);
    const ke = rope(p, `${blk}/self_attn/rope_k`, KV);
    p.free(q, k, qn, kn);
    cacheUpdate(p, a, r, blk);
    const core = attnCore(p, a, r, `${blk}/self_attn`, Q);
    const merged = p.op(`${blk}/self_attn/transpose_contiguous`, Q);
    p.free(core.out);
    const o = p.op(`${blk}/self_attn/o_proj`, X, true);
    p.free(merged, qe, ke, v, ...keptWeights);
    // Eager attention returns its weights; the decoder layer's `_` holds them until it returns.
    keptWeights = r.attn === "eager" ? core.temps : [];
    if (r.attn !== "eager") p.free(...core.temps);
    p.free(n1);
    const h1 = p.op(`${blk}/add`, X);
    p.free(o);
    const n2 = rmsNorm(p, `${blk}/post_attention_layernorm`, X, r.elem);
    const gate = p.op(`${blk}/mlp/gate_proj`, I, true);
    const act = p.op(`${blk}/mlp/act_fn`, I);
    p.free(gate);
    const up = p.op(`${blk}/mlp/up_proj`, I, true);
    const mul = p.op(`${blk}/mlp/mul`, I);
    p.free(act, up);
    const down = p.op(`${blk}/mlp/down_proj`, X, true);
    p.free(mul);
    const y = p.op(`${blk}/add_1`, X);
    p.free(n2, down, h1, ...keptWeights);
    keptWeights = [];
    if (x !== emb) p.free(x);
    x = y;
  }
  const norm = rmsNorm(p, "norm", X, r.elem);
  p.free(x, emb, mask, cos, sin, cachePos);
  const logitsBytes = B * (r.logitsForAll ? S : 1) * a.vocab * r.elem;
  const logits = p.op("lm_head", logitsBytes, true);
  p.free(norm);
  return { outputs: [logits], outputBytes: logitsBytes };
}
