/**
 * onnxruntime-web's wasm heap in headless chromium (Debian's /usr/bin/chromium, driven by playwright-core): the
 * same settings and measure as bench/ort-web-child.ts in Node, one fresh page (and browser context) per setting
 * (bench/ort-web-page.ts). The page wraps WebAssembly.Memory before onnxruntime-web loads, reads
 * buffer.byteLength after InferenceSession.create and after runs 1 and 2.
 * Adds `browser` records to the ground-truth file of bench/ort-web-measure.ts.
 *
 * usage: node dist/bench/ort-web-browser.js [--machine TAG] [--only KEY,KEY]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostCpu } from "../src/memory/cpu.js";
import { ORT_WEB_SETTINGS } from "./ort-web-settings.js";
import { groundTruthFile } from "./ort-web-measure.js";
import { measureInChromium, PAGE_HELPERS } from "./ort-web-page.js";
import { option } from "./option.js";

const BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"];

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-web heap</title><script type="module">
const memories = [];
const Original = WebAssembly.Memory;
class Recorded extends Original { constructor(d) { super(d); memories.push(this); } }
WebAssembly.Memory = Recorded;
const heap = () => memories.reduce((a, m) => Math.max(a, m.buffer.byteLength), 0);
${PAGE_HELPERS}
window.measure = async (spec) => {
  const ort = await import("/ort/ort.wasm.min.mjs");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = "/ort/";
  const r = { "onnxruntime-web": ort.env.versions.web, crossOriginIsolated: self.crossOriginIsolated };
  try {
    const session = await loadSession(ort, spec, ["wasm"]);
    r.heap_created = heap();
    const feeds = feedsOf(ort, spec);
    await session.run(feeds);
    r.heap_run1 = heap();
    await session.run(feeds);
    r.heap_run2 = heap();
    await session.release();
  } catch (e) {
    r.error = String(e && e.message || e).split("\\n")[0].slice(0, 300);
    r.heap_failed = heap();
  }
  return r;
};
</script>`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const machine = option(args, "machine", `host-${hostCpu().isa}`);
  const only = option(args, "only", "").split(",").filter(Boolean);
  const out = groundTruthFile(machine);
  if (!existsSync(out)) throw new Error(`${out}: measure in Node first (ort-web-measure.js)`);
  const doc = JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, unknown>; runs: Record<string, unknown>[]; browser?: Record<string, unknown>[] };
  const records = new Map((doc.browser ?? []).map((r) => [r["key"] as string, r]));
  const settings = ORT_WEB_SETTINGS.filter((s) => (only.length > 0 ? only.includes(s.key) : !s.tooBig));
  await measureInChromium(PAGE, BROWSER_ARGS, settings, (s, r, seconds, version) => {
    records.set(s.key, { key: s.key, ...r, seconds });
    process.stderr.write(`${s.key}: ${JSON.stringify(records.get(s.key))}\n`);
    doc.browser = ORT_WEB_SETTINGS.map((x) => records.get(x.key)).filter((x) => x !== undefined);
    doc.env["browser"] = `${version} (Debian's chromium, headless, --disable-gpu), playwright-core; the same measure in a fresh page per setting (bench/ort-web-browser.ts)`;
    writeFileSync(out, JSON.stringify(doc, null, 1) + "\n");
  });
  process.stderr.write(`wrote ${out}\n`);
}

await main();
