/**
 * Measures onnxruntime-web's wasm heap on this machine: one fresh Node process per setting
 * (bench/ort-web-child.ts), the settings of bench/ort-web-settings.ts. Writes
 * bench/groundtruth/ort-web<version>-wasm-node<major>-<machine>.json with this CPU's model name and flags.
 *
 * usage: node dist/bench/ort-web-measure.js [--machine TAG] [--only KEY,KEY]
 *        node dist/bench/ort-web-measure.js --probe [--machine TAG]: the heap's footprint after session creation
 *        (ort-web-child.ts probe), with and without MLAS prepacking, per model: ...-wasm-probe-....json
 */
import { execFileSync } from "node:child_process";
import { writeFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hostCpu } from "../src/memory/cpu.js";
import { ORT_WEB_SETTINGS } from "./ort-web-settings.js";
import { option } from "./option.js";
import { GROUNDTRUTH, REPO_ROOT } from "./shared.js";

const CHILD = join(REPO_ROOT, "dist", "bench", "ort-web-child.js");

export function measureSetting(file: string, inputs: unknown, mode?: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, [CHILD, file, JSON.stringify(inputs), ...(mode ? [mode] : [])], { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "pipe"] });
  const line = out.split("\n").find((l) => l.startsWith("ORTWEB "));
  if (!line) throw new Error(`${file}: no ORTWEB line`);
  return JSON.parse(line.slice(7)) as Record<string, unknown>;
}

export function ortWebVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "onnxruntime-web", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

export function groundTruthFile(machine: string): string {
  return join(GROUNDTRUTH, `ort-web${ortWebVersion()}-wasm-node${process.versions.node.split(".")[0]}-${machine}.json`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const machine = option(args, "machine", `host-${hostCpu().isa}`);
  const only = option(args, "only", "").split(",").filter(Boolean);
  if (args.includes("--probe")) {
    const rows: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const s of ORT_WEB_SETTINGS) {
      if (seen.has(s.file) || s.tooBig) continue;
      seen.add(s.file);
      for (const mode of ["probe", "probe-noprepack"]) {
        rows.push({ model: s.file.slice(REPO_ROOT.length + 1), ...measureSetting(s.file, s.inputs, mode) });
        process.stderr.write(`${s.file} ${mode}: ${JSON.stringify(rows.at(-1))}\n`);
      }
    }
    const file = groundTruthFile(machine).replace("-wasm-", "-wasm-probe-");
    const cpu = hostCpu();
    writeFileSync(file, JSON.stringify({ env: { "onnxruntime-web": ortWebVersion(), node: process.versions.node, cpu: cpu.model, measured: new Date().toISOString().slice(0, 10), measure: "top_created: the address malloc(1 GiB) returns right after InferenceSession.create (dlmalloc places it at the top), i.e. the heap's footprint then; probe-noprepack: session.disable_prepacking=1" }, rows }, null, 1) + "\n");
    process.stderr.write(`wrote ${file}\n`);
    process.exit(0);
  }
  const out = groundTruthFile(machine);
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as { runs: Record<string, unknown>[] }).runs : [];
  const runs = new Map(previous.map((r) => [r["key"] as string, r]));
  for (const s of ORT_WEB_SETTINGS) {
    if (only.length > 0 && !only.includes(s.key)) continue;
    const t0 = Date.now();
    const r = measureSetting(s.file, s.inputs);
    runs.set(s.key, { key: s.key, ...r, file: s.file.slice(REPO_ROOT.length + 1), seconds: (Date.now() - t0) / 1000 });
    process.stderr.write(`${s.key}: ${JSON.stringify(runs.get(s.key))}\n`);
    const cpu = hostCpu();
    const env = {
      "onnxruntime-web": ortWebVersion(),
      backend: "wasm (ort-wasm-simd-threaded.wasm, wasm32: WebAssembly.Memory maximum 65536 pages), ort.env.wasm.numThreads 1, proxy off",
      node: process.versions.node,
      cpu: cpu.model || "unknown CPU",
      isa: cpu.isa,
      flags: cpu.flags.filter((f) => /^(avx|amx|fma|sse4|f16c|asimd|sve)/.test(f)).join(" "),
      measured: new Date().toISOString().slice(0, 10),
      measure: "WebAssembly.Memory buffer.byteLength (the heap only grows, so this is its high-water mark), read after InferenceSession.create and after runs 1 and 2; one fresh process per setting (bench/ort-web-child.ts)",
      weights: "fixtures: random values at the declared external-data offsets (src/runtime/random-weights.ts), passed as externalData; fashion: embedded",
    };
    const ordered = ORT_WEB_SETTINGS.map((x) => runs.get(x.key)).filter((x) => x !== undefined);
    writeFileSync(out, JSON.stringify({ env, runs: ordered }, null, 1) + "\n");
  }
  process.stderr.write(`wrote ${out}\n`);
}
