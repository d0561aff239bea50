/**
 * `npm run bench:llm-accuracy`: transformer memory from config.json vs H200 measurements: the shared ground
 * truth (bert-base, gpt2), then the held-out configs measured later (qwen2-0.5b, llama-3.2-1b), printed apart.
 */
import { llmAccuracy, llmHeldOutAccuracy, llmHeldOutReserved, median, summarize, type LlmRow } from "./llm-accuracy-lib.js";
import { DATA, REPO_ROOT } from "./shared.js";

const mb = (n: number) => (n / 1e6).toFixed(1).padStart(9);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function print(title: string, rows: LlmRow[]): void {
  console.log(`\n${title}`);
  console.log(`${"case".padEnd(58)}predicted MB  measured MB   error`);
  for (const r of rows) console.log(`${r.what.padEnd(58)}${mb(r.predicted)}    ${mb(r.measured)}  ${(100 * r.error).toFixed(1).padStart(6)}%`);
  const s = summarize(rows);
  console.log(`forward activationPeak: median |error| ${pct(s.forward.median)}, max ${pct(s.forward.max)} (${s.forward.rows} rows)`);
  console.log(`generation peak: median |error| ${pct(s.generate.median)}, max ${pct(s.generate.max)} (${s.generate.rows} rows)`);
}

print("shared ground truth (bench/groundtruth/h200-torch2.11.json: bert-base, gpt2)", llmAccuracy(DATA));
print("held out (bench/groundtruth/gpu-h200-torch2.11-llm.json: qwen2-0.5b, llama-3.2-1b; never tuned on)", llmHeldOutAccuracy(REPO_ROOT));

const reserved = llmHeldOutReserved(REPO_ROOT);
console.log("\nheld out: max_memory_reserved during forward 2 (weights, workspaces and the allocator's segments)");
for (const r of reserved) console.log(`${r.what.padEnd(58)}${mb(r.predicted)}    ${mb(r.measured)}  ${(100 * r.error).toFixed(1).padStart(6)}%`);
const re = reserved.map((r) => Math.abs(r.error));
console.log(`peakReserved: median |error| ${pct(median(re))}, max ${pct(Math.max(...re))} (${re.length} rows)`);
