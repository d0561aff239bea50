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

import { bert } from "./family-bert.js";
import { gpt2 } from "./family-gpt2.js";
import { llama } from "./family-llama.js";
import { linear, ProgramBuilder, type AttnImpl, type Forward, type KvCache, type LlmParam, type LlmRun } from "./program-builder.js";

export { ProgramBuilder } from "./program-builder.js";
export type { AttnImpl, KvCache, LinearRole, LlmParam, LlmRun, OpGrad } from "./program-builder.js";

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
