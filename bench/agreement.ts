/** `npm run bench:agreement`: ORT and exporter agreement on the shared fixtures, every mismatch listed. */
import { DYNAMO, LEGACY, exporterAgreement, ortAgreement, type Mismatch } from "./agreement-lib.js";

const all: Mismatch[] = [];
for (const name of LEGACY) {
  for (const batch of [1, 4]) {
    const { compared, mismatches } = ortAgreement(name, batch);
    console.log(`ORT       ${name.padEnd(16)} batch ${batch}: ${compared - mismatches.length}/${compared} nodes agree`);
    all.push(...mismatches);
  }
}
for (const name of DYNAMO) {
  const { compared, mismatches } = exporterAgreement(name);
  console.log(`exporter  ${name.padEnd(16)}: ${compared - mismatches.length}/${compared} value_info shapes agree`);
  all.push(...mismatches);
}
const limit = process.argv.includes("--all") ? Infinity : 60;
for (const m of all.slice(0, limit)) console.log(`  ${m.model} ${m.node}: ${m.detail}`);
if (all.length > limit) console.log(`  ... ${all.length - limit} more (--all)`);
console.log(`\nagreement: ${all.length} mismatches`);
