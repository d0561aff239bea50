/** BERT (BertModel) as an allocation program. */
import type { ArchSpec } from "./arch.js";
import { attention, gelu } from "./blocks.js";
import { linear, others, type Forward, type LlmRun, type ProgramBuilder } from "./program-builder.js";


/** BertModel.forward (sdpa or eager attention, no padding mask). */
export function bert(p: ProgramBuilder, a: ArchSpec, r: LlmRun): Forward {
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
