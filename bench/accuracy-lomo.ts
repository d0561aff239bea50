/**
 * Leave-one-model-out check of a memory rule: `node dist/bench/accuracy-lomo.js BASE.json CANDIDATE.json...`,
 * each file the rows `npm run bench:accuracy -- --json FILE` wrote with one setting of the rule (BASE: the rule
 * off). For each torchvision model, the setting is chosen on the other models' rows alone (lowest mean |error|
 * of activationPeak and peakReserved), then the held-out model is scored with that choice. A rule passes when the
 * held-out scores are no worse than BASE's: the rule generalises instead of fitting the model it came from.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { median, type Comparison } from "./accuracy-lib.js";

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error("usage: accuracy-lomo BASE.json CANDIDATE.json [CANDIDATE.json ...]");
  process.exit(2);
}
const settings = files.map((f) => ({ name: basename(f, ".json"), rows: (JSON.parse(readFileSync(f, "utf8")) as Comparison[]).filter((c) => c.group === "torchvision") }));
const models = [...new Set(settings[0]!.rows.map((c) => c.model))];
const METRICS = ["activationPeak", "peakReserved"];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const abs = (cs: Comparison[]) => cs.map((c) => Math.abs(c.error));
const pct = (e: number) => `${(100 * e).toFixed(2)}%`;

let worse = 0;
console.log(["held out", "chosen on the other 6", "metric", "base median", "chosen median", "base worst", "chosen worst"].join(" | "));
for (const m of models) {
  const score = (rows: Comparison[]) => mean(abs(rows.filter((c) => c.model !== m && METRICS.includes(c.metric))));
  const chosen = settings.reduce((best, s) => (score(s.rows) < score(best.rows) - 1e-12 ? s : best), settings[0]!);
  for (const metric of METRICS) {
    const base = abs(settings[0]!.rows.filter((c) => c.model === m && c.metric === metric));
    const held = abs(chosen.rows.filter((c) => c.model === m && c.metric === metric));
    if (median(held) > median(base) + 1e-9) worse++;
    console.log([m, chosen.name, metric, pct(median(base)), pct(median(held)), pct(Math.max(...base)), pct(Math.max(...held))].join(" | "));
  }
}
console.log(worse === 0 ? "every held-out model's median is no worse than without the rule" : `${worse} held-out medians are worse than without the rule`);
process.exit(worse === 0 ? 0 : 1);
