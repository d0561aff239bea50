/** `npm run bench:conformance`: pass rate by op over ONNX's backend node tests, and every failure with its reason. */
import { ensureTestdata, runConformance, summarise } from "./conformance-lib.js";

if (!ensureTestdata()) {
  console.error("libonnx-testdata is not installed and could not be installed (apt-get install libonnx-testdata)");
  process.exit(1);
}
const t0 = performance.now();
const results = runConformance();
const byOp = new Map<string, { pass: number; total: number }>();
for (const r of results) {
  if (r.status === "skip") continue;
  const e = byOp.get(r.op) ?? { pass: 0, total: 0 };
  e.total++;
  if (r.status === "pass") e.pass++;
  byOp.set(r.op, e);
}
const quiet = process.argv.includes("--failures");
if (!quiet) {
  console.log("op".padEnd(34) + "pass/total");
  for (const [op, e] of [...byOp].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(`${op.padEnd(34)}${e.pass}/${e.total}${e.pass < e.total ? "  <" : ""}`);
  }
}
console.log("\nfailures:");
for (const r of results) if (r.status === "fail") console.log(`  ${r.suite}/${r.name} [${r.op}]: ${r.reason}`);
const s = summarise(results);
console.log(
  `\nconformance: ${s.passed}/${s.counted} tests pass (${(100 * s.rate).toFixed(1)}%), ${results.length - s.counted} skipped (non-tensor outputs); onnx's own inference: 948/1060 (89.4%). ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
