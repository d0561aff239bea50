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

/** The role of a Linear layer (LoRA targets are chosen by role; QLoRA quantizes all but lm_head). */
export type LinearRole = "q" | "k" | "v" | "qkv" | "o" | "attn_out" | "gate" | "up" | "down" | "pooler" | "lm_head";

/** A parameter an op uses (for the training model, src/llm/train.ts). */
export interface LlmParam {
  /** transformers' parameter name (`h.0.attn.c_attn.weight`). */
  name: string;
  elements: number;
  /**
   * linear: a Linear/Conv1D weight; bias: its bias (autocast casts both to half for the matmul);
   * other: norm scales and embeddings (autocast leaves them fp32).
   */
  kind: "linear" | "bias" | "other";
  /** Linear weights: role and shape. */
  linear?: { role: LinearRole; inFeatures: number; outFeatures: number };
}

/**
 * What autograd needs of an op: its kind as an ONNX op type (the saved-tensor rules of
 * src/memory/train/rules.ts and autocast's lists are keyed by those), the tensors it reads, its parameters.
 * The inference simulation ignores it.
 */
export interface OpGrad {
  type: string | string[];
  reads?: (string | undefined)[];
  params?: LlmParam[];
}

/** A Linear layer's parameters: weight (in x out) and optionally its bias. */
function linear(name: string, role: LinearRole, inFeatures: number, outFeatures: number, bias: boolean): LlmParam[] {
  const w: LlmParam = { name: `${name}.weight`, elements: inFeatures * outFeatures, kind: "linear", linear: { role, inFeatures, outFeatures } };
  return bias ? [w, { name: `${name}.bias`, elements: outFeatures, kind: "bias" }] : [w];
}

/** A norm's or embedding's parameters. */
function others(name: string, ...sizes: [string, number][]): LlmParam[] {
  return sizes.map(([n, e]) => ({ name: `${name}.${n}`, elements: e, kind: "other" as const }));
}

/** Module name from a program op name (`h.0/attn/c_attn` -> `h.0.attn.c_attn`). */
const mod = (name: string): string => name.replaceAll("/", ".");

/** Ids are unique per tensor; `free` records the op after which the last reference dies. */
export class ProgramBuilder {
  readonly ops: EagerOp[] = [];
  readonly freeAfter = new Map<string, number>();
  /** Per op, what autograd needs of it (undefined: nothing differentiable). */
  readonly grads: (OpGrad | undefined)[] = [];
  /** Small tensors autograd keeps for backward though the forward drops them (rotary cos/sin). */
  readonly heldForBackward: string[] = [];
  private n = 0;

  /** One aten op producing one tensor of `bytes` (0 bytes: a view, nothing allocated). */
  op(name: string, bytes: number, cublas = false, grad?: OpGrad): string {
    const id = `${name}#${this.n++}`;
    this.grads.push(grad);
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

/**
 * Whether the forward runs a Linear with a bias. PyTorch sends `addmm(bias, x, W)` (beta = 1, a 1-D bias) through
 * cuBLASLt, which takes its own persistent workspace from the caching allocator at its first use
 * (aten/src/ATen/native/cuda/Blas.cpp, isInputCompliesAddmmCudaLt; CublasHandlePool.cpp,
 * getCUDABlasLtWorkspace); a bias-free Linear is a plain `mm` (beta = 0) through cuBLAS. GPT-2's Conv1D and
 * BERT's Linears all have biases, Qwen2 its q/k/v projections, Llama only with attention_bias/mlp_bias.
 */
export function usesCublasLt(a: ArchSpec): boolean {
  return a.family === "gpt2" || a.family === "bert" || a.qkvBias || a.outBias || a.mlpBias;
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

/** The training forward: the fp32 program with each op's autograd kind and reads, and the parameters by op. */
export interface TrainingProgram {
  program: EagerProgram;
  /** Each parameter with the index of the op that uses it (a tied embedding belongs to lm_head). */
  params: { op: number; param: LlmParam }[];
  /** Elements of the logits (the loss's input). */
  logitElements: number;
}

/**
 * The forward a training step runs (model.train(), no cache, logits for every position), in fp32 (master
 * weights; autocast decides the half activations later). Checkpointing works per decoder layer, as HF's
 * gradient_checkpointing_enable(): an op's module path is its layer (`h.3`, `layers.3`, `encoder.layer.3`)
 * or nothing (embeddings, final norm, head stay outside any block).
 */
export function trainingProgram(a: ArchSpec, batch: number, seq: number, attn: AttnImpl): TrainingProgram {
  const p = new ProgramBuilder();
  const out = forward(p, a, { batch, seq, elem: 4, attn, logitsForAll: true });
  p.keep(...out.outputs, ...p.heldForBackward);
  const params: { op: number; param: LlmParam }[] = [];
  const ops = p.ops.map((op, i) => {
    const g = p.grads[i];
    const layer = op.path[0] ?? "";
    const path = /\.\d+$/.test(layer) ? [layer] : [];
    if (!g) return { ...op, path };
    for (const param of g.params ?? []) params.push({ op: i, param });
    const reads = (g.reads ?? []).filter((r): r is string => r !== undefined);
    // A parameter operand is not a device activation; it still counts as an operand (weight * x saves x).
    for (const param of g.params ?? []) reads.push(`param:${param.name}`);
    return { ...op, path, opTypes: typeof g.type === "string" ? [g.type] : g.type, reads };
  });
  const last = out.outputs[out.outputs.length - 1]!;
  const lastBytes = ops.flatMap((op) => op.allocs).find((al) => al.id === last)?.bytes ?? out.outputBytes;
  const program = p.build(parameterTensors(a, 4), batch * seq * 8, out.outputBytes);
  return { program: { ...program, ops }, params, logitElements: lastBytes / 4 };
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
  /** generate(min_new_tokens=M): with an eos token, MinNewTokensLengthLogitsProcessor runs every step (0: none). */
  minNewTokens?: number;
}

/**
 * model.generate(ids, max_new_tokens=N) with greedy search and a DynamicCache, as transformers' `_sample` loop
 * runs it: a prefill forward that keeps only the last position's logits, then N-1 one-token forwards. Each step
 * extends the attention mask (torch.cat), copies the last logits to fp32 (`next_token_logits`), runs the logits
 * processors into `next_token_scores`, takes the argmax, appends it to input_ids (torch.cat) and drops the
 * model output (`del outputs`). `next_token_logits` and `next_token_scores` are loop variables: they stay
 * referenced through the next step's forward and die only when that step rebinds them.
 */
export function generateProgram(a: ArchSpec, g: GenerateRun): EagerProgram {
  if (a.family === "bert") throw new Error("generation needs a decoder (bert is an encoder)");
  const p = new ProgramBuilder();
  const cache: KvCache = { keys: [], values: [], past: 0 };
  const V = g.batch * a.vocab;
  let ids: string | undefined;
  let mask = p.op("generate/attention_mask", g.batch * g.prompt * 8);
  let logits32: string | undefined;
  let scores: string | undefined;
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
    const len = g.prompt + t + 1;
    // _update_model_kwargs_for_generation runs before the logits are read.
    const newMask = p.op("generate/cat_attention_mask", g.batch * len * 8);
    p.free(mask);
    mask = newMask;
    // next_token_logits = outputs.logits[:, -1, :].to(copy=True, dtype=torch.float32): the previous copy dies on
    // this rebinding unless next_token_scores is the same tensor (no processor ran); that one dies when the
    // processors' result is bound to next_token_scores.
    const newLogits = p.op("generate/logits_to_fp32", V * 4);
    if (scores !== logits32) p.free(logits32);
    const newScores = logitsProcessors(p, a, g, t, V, newLogits);
    p.free(scores);
    logits32 = newLogits;
    scores = newScores;
    const next = p.op("generate/argmax", g.batch * 8);
    const newIds = p.op("generate/cat_input_ids", g.batch * len * 8);
    // `del outputs` ends the step: the logits (and anything else the forward returned) go.
    p.free(next, ids, ...out.outputs);
    ids = newIds;
  }
  p.free(mask, logits32, scores, ...cache.keys, ...cache.values);
  p.keep(ids!);
  return p.build(parameterTensors(a, g.elem), g.batch * g.prompt * 8, g.batch * (g.prompt + g.newTokens) * 8);
}

/**
 * The logits processors of a greedy generate. None unless min_new_tokens is set and the config names an eos
 * token; then generate also sets min_length = prompt + min_new_tokens (_prepare_generated_length), so two
 * processors run in turn (_get_logits_processor's order): MinLengthLogitsProcessor, then
 * MinNewTokensLengthLogitsProcessor. Each builds arange(vocab) (int64) and its isin(eos) mask (bool), clones the
 * scores and, while fewer than min_new_tokens tokens are new, writes torch.where(mask, -inf, scores), a new fp32
 * tensor (the clone dies on that rebinding); its temporaries die when it returns, and the first one's result
 * when the list rebinds its `scores` to the second's. Without processors `next_token_scores` is
 * `next_token_logits` itself. `t`: tokens generated before this step (input_ids.shape[-1] - prompt).
 */
function logitsProcessors(p: ProgramBuilder, a: ArchSpec, g: GenerateRun, t: number, V: number, logits32: string): string {
  const minNew = g.minNewTokens ?? 0;
  if (!(minNew > 0 && a.eos)) return logits32;
  const masking = t < minNew;
  const name = "generate/min_length";
  const vocab1 = p.op(`${name}/arange`, a.vocab * 8);
  const isEos1 = p.op(`${name}/isin`, a.vocab);
  const clone1 = p.op(`${name}/clone`, V * 4);
  const where1 = masking ? p.op(`${name}/where`, V * 4) : undefined;
  if (where1) p.free(clone1);
  p.free(vocab1, isEos1);
  const first = where1 ?? clone1;
  const name2 = "generate/min_new_tokens";
  const clone2 = p.op(`${name2}/clone`, V * 4);
  const vocab2 = p.op(`${name2}/arange`, a.vocab * 8);
  const isEos2 = p.op(`${name2}/isin`, a.vocab);
  const where2 = masking ? p.op(`${name2}/where`, V * 4) : undefined;
  if (where2) p.free(clone2);
  p.free(vocab2, isEos2, first);
  return where2 ?? clone2;
}

interface Forward {
  outputs: string[];
  outputBytes: number;
}

/** GPT2LMHeadModel.forward (use_cache=False). */
function gpt2(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const h = a.hidden;
  const X = r.batch * r.seq * h * r.elem;
  const I = r.batch * r.seq * a.intermediate * r.elem;
  const wte = others("transformer.wte", ["weight", a.vocab * h]);
  const pos = p.op("wpe/arange", r.seq * 8);
  const emb = p.op("wte/embedding", X, false, { type: "Gather", reads: ["input_ids"], params: a.tieEmbeddings ? [] : wte });
  const pemb = p.op("wpe/embedding", r.seq * h * r.elem, false, { type: "Gather", reads: [pos], params: others("transformer.wpe", ["weight", a.maxPositions * h]) });
  let x = p.op("embeddings/add", X, false, { type: "Add", reads: [emb, pemb] });
  for (let l = 0; l < a.layers; l++) {
    const blk = `h.${l}`;
    const ln1 = p.op(`${blk}/ln_1`, X, false, { type: "LayerNormalization", reads: [x], params: others(`transformer.${blk}.ln_1`, ["weight", h], ["bias", h]) });
    const attnOut = attention(p, a, r, blk, true, ln1);
    const sum1 = p.op(`${blk}/add`, X, false, { type: "Add", reads: [attnOut, x] });
    p.free(ln1);
    const ln2 = p.op(`${blk}/ln_2`, X, false, { type: "LayerNormalization", reads: [sum1], params: others(`transformer.${blk}.ln_2`, ["weight", h], ["bias", h]) });
    const fc = p.op(`${blk}/mlp/c_fc`, I, true, { type: "MatMul", reads: [ln2], params: linear(`transformer.${blk}.mlp.c_fc`, "up", h, a.intermediate, true) });
    const act = gelu(p, `${blk}/mlp/act`, I, a.modelType === "gpt2", fc);
    const proj = p.op(`${blk}/mlp/c_proj`, X, true, { type: "MatMul", reads: [act], params: linear(`transformer.${blk}.mlp.c_proj`, "down", a.intermediate, h, true) });
    p.free(act);
    const y = p.op(`${blk}/add_1`, X, false, { type: "Add", reads: [sum1, proj] });
    p.free(ln2, fc, proj, attnOut, sum1, x);
    x = y;
  }
  const lnf = p.op("ln_f", X, false, { type: "LayerNormalization", reads: [x], params: others("transformer.ln_f", ["weight", h], ["bias", h]) });
  p.free(x, emb, pemb, pos);
  const logitsBytes = r.batch * (r.logitsForAll ? r.seq : 1) * a.vocab * r.elem;
  const head = linear(a.tieEmbeddings ? "transformer.wte" : "lm_head", "lm_head", h, a.vocab, false);
  const logits = p.op("lm_head", logitsBytes, true, { type: "MatMul", reads: [lnf], params: head });
  p.free(lnf);
  return { outputs: [logits], outputBytes: logitsBytes };
}

/** GELU: one kernel, or transformers' NewGELUActivation (gelu_new), a Python formula with temporaries. */
function gelu(p: ProgramBuilder, name: string, I: number, formula: boolean, x: string): string {
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
function attention(p: ProgramBuilder, a: ArchSpec, r: LlmRun, blk: string, fusedQkv: boolean, x: string): string {
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
function attnCore(p: ProgramBuilder, a: ArchSpec, r: LlmRun, name: string, Q: number, [q, k, v]: [string, string, string]): { out: string; temps: string[] } {
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

/** BertModel.forward (sdpa or eager attention, no padding mask). */
function bert(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
  const h = a.hidden;
  const X = r.batch * r.seq * h * r.elem;
  const I = r.batch * r.seq * a.intermediate * r.elem;
  const ones = p.op("attention_mask/ones", r.batch * r.seq * r.elem);
  const we = p.op("embeddings/word", X, false, { type: "Gather", reads: ["input_ids"], params: others("bert.embeddings.word_embeddings", ["weight", a.vocab * h]) });
  const te = p.op("embeddings/token_type", X, false, { type: "Gather", params: others("bert.embeddings.token_type_embeddings", ["weight", a.typeVocab * h]) });
  const sum = p.op("embeddings/add", X, false, { type: "Add", reads: [we, te] });
  const pe = p.op("embeddings/position", r.seq * h * r.elem, false, { type: "Gather", params: others("bert.embeddings.position_embeddings", ["weight", a.maxPositions * h]) });
  // `embeddings += position_embeddings` is in place: the LayerNorm reads the sum, and the gradient reaches both.
  const embOut = p.op("embeddings/LayerNorm", X, false, { type: ["Add", "LayerNormalization"], reads: [sum, pe], params: others("bert.embeddings.LayerNorm", ["weight", h], ["bias", h]) });
  p.free(we, te, sum, pe);
  let x = embOut;
  for (let l = 0; l < a.layers; l++) {
    const blk = `encoder.layer.${l}`;
    const m = `bert.encoder.layer.${l}`;
    const selfOut = attention(p, a, r, `${blk}/attention`, false, x);
    const dense = p.op(`${blk}/attention/output/dense`, X, true, { type: "MatMul", reads: [selfOut], params: linear(`${m}.attention.output.dense`, "attn_out", h, h, true) });
    const add = p.op(`${blk}/attention/output/add`, X, false, { type: "Add", reads: [dense, x] });
    const attnOut = p.op(`${blk}/attention/output/LayerNorm`, X, false, { type: "LayerNormalization", reads: [add], params: others(`${m}.attention.output.LayerNorm`, ["weight", h], ["bias", h]) });
    p.free(dense, add, selfOut);
    const inter = p.op(`${blk}/intermediate/dense`, I, true, { type: "MatMul", reads: [attnOut], params: linear(`${m}.intermediate.dense`, "up", h, a.intermediate, true) });
    const act = gelu(p, `${blk}/intermediate/gelu`, I, false, inter);
    p.free(inter);
    const od = p.op(`${blk}/output/dense`, X, true, { type: "MatMul", reads: [act], params: linear(`${m}.output.dense`, "down", a.intermediate, h, true) });
    const oadd = p.op(`${blk}/output/add`, X, false, { type: "Add", reads: [od, attnOut] });
    const y = p.op(`${blk}/output/LayerNorm`, X, false, { type: "LayerNormalization", reads: [oadd], params: others(`${m}.output.LayerNorm`, ["weight", h], ["bias", h]) });
    p.free(act, od, oadd, attnOut);
    if (x !== embOut) p.free(x);
    x = y;
  }
  const outputs = [x];
  let outputBytes = X;
  if (a.pooler) {
    const pooled = p.op("pooler/dense", r.batch * h * r.elem, true, { type: "MatMul", reads: [x], params: linear("bert.pooler.dense", "pooler", h, h, true) });
    const tanh = p.op("pooler/tanh", r.batch * h * r.elem, false, { type: "Tanh", reads: [pooled] });
    p.free(pooled);
    outputs.push(tanh);
    outputBytes += r.batch * h * r.elem;
  }
  p.free(embOut, ones);
  return { outputs, outputBytes };
}

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
function llama(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
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
