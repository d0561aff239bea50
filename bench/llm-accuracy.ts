/** `npm run bench:llm-accuracy`: transformer memory from config.json vs the H200 ground truth. */
import { join } from "node:path";
import { llmAccuracy, median } from "./llm-accuracy-lib.js";
import { SHARED } from "./shared.js";

const shared = SHARED;
const rows = llmAccuracy(shared);
const mb = (n: number) => (n / 1e6).toFixed(1).padStart(9);
console.log(`${"case".padEnd(44)}predicted MB  measured MB   error`);
for (const r of rows) console.log(`${r.what.padEnd(44)}${mb(r.predicted)}    ${mb(r.measured)}  ${(100 * r.error).toFixed(1).padStart(6)}%`);
const fwd = rows.filter((r) => r.what.endsWith("activationPeak")).map((r) => Math.abs(r.error));
const gen = rows.filter((r) => r.what.includes("generate")).map((r) => Math.abs(r.error));
console.log(`\nforward activationPeak: median |error| ${(100 * median(fwd)).toFixed(1)}%, max ${(100 * Math.max(...fwd)).toFixed(1)}% (${fwd.length} rows)`);
console.log(`generation peak: median |error| ${(100 * median(gen)).toFixed(1)}%, max ${(100 * Math.max(...gen)).toFixed(1)}% (${gen.length} rows)`);
