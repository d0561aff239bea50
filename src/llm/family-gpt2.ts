/** GPT-2 (GPT2LMHeadModel) as an allocation program. */
import type { ArchSpec } from "./arch.js";
import { attention, gelu } from "./blocks.js";
import { linear, others, type Forward, type LlmRun, type ProgramBuilder } from "./program-builder.js";


/** GPT2LMHeadModel.forward (use_cache=False). */
export function gpt2(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
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
