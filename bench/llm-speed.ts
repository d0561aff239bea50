/**
 * `npm run bench:llm-speed`: `memlens analyze` of a 70B-parameter hub folder (Llama-3-70B's config.json and 30
 * sharded safetensors whose headers list every tensor; the weight bytes are sparse, never written or read),
 * as a whole process. Target: < 0.3 s wall.
 */
import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archFromConfig } from "../src/llm/arch.js";

const TARGET_S = 0.3;
const config = {
  model_type: "llama", hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64,
  num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: false, torch_dtype: "bfloat16",
};

/** Llama's tensor names and shapes, as transformers saves them. */
function tensors(): [string, number[]][] {
  const a = archFromConfig(config);
  const h = a.hidden;
  const kv = a.kvHeads * a.headDim;
  const out: [string, number[]][] = [["model.embed_tokens.weight", [a.vocab, h]]];
  for (let l = 0; l < a.layers; l++) {
    const p = `model.layers.${l}`;
    out.push([`${p}.self_attn.q_proj.weight`, [h, h]], [`${p}.self_attn.k_proj.weight`, [kv, h]], [`${p}.self_attn.v_proj.weight`, [kv, h]]);
    out.push([`${p}.self_attn.o_proj.weight`, [h, h]], [`${p}.mlp.gate_proj.weight`, [a.intermediate, h]], [`${p}.mlp.up_proj.weight`, [a.intermediate, h]]);
    out.push([`${p}.mlp.down_proj.weight`, [h, a.intermediate]], [`${p}.input_layernorm.weight`, [h]], [`${p}.post_attention_layernorm.weight`, [h]]);
  }
  out.push(["model.norm.weight", [h]], ["lm_head.weight", [a.vocab, h]]);
  return out;
}

export function makeHubFolder(shards = 30): string {
  const dir = mkdtempSync(join(tmpdir(), "memlens-70b-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const all = tensors();
  const per = Math.ceil(all.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
    let off = 0;
    for (const [t, shape] of all.slice(s * per, (s + 1) * per)) {
      const bytes = shape.reduce((x, y) => x * y, 1) * 2;
      header[t] = { dtype: "BF16", shape, data_offsets: [off, off + bytes] };
      weightMap[t] = name;
      off += bytes;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const fd = openSync(join(dir, name), "w");
    writeSync(fd, len);
    writeSync(fd, json);
    ftruncateSync(fd, 8 + json.length + off); // sparse: the weights take no disk and are never read
    closeSync(fd);
  }
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return dir;
}

if (process.argv[1]?.endsWith("llm-speed.js")) {
  const dir = makeHubFolder();
  try {
    const cli = join(process.cwd(), "bin", "memlens.js");
    const times: number[] = [];
    let out = "";
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [cli, "analyze", dir, "--json", "--dim", "seq=2048"], { encoding: "utf8" });
      times.push((performance.now() - t0) / 1000);
      if (r.status !== 0) throw new Error(r.stderr);
      out = r.stdout;
    }
    const rep = JSON.parse(out);
    const best = Math.min(...times);
    console.log(`70B hub folder (30 shards, ${rep.model.parameters.toLocaleString("en-US")} parameters, ${(rep.model.weightBytes / 1e9).toFixed(1)} GB): analyze --json best of 5 ${best.toFixed(3)} s (median ${times.sort()[2]!.toFixed(3)} s), target < ${TARGET_S} s: ${best < TARGET_S ? "ok" : "MISSED"}`);
    if (best >= TARGET_S) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
