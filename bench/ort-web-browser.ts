/**
 * onnxruntime-web's wasm heap in headless chromium (Debian's /usr/bin/chromium, driven by playwright-core): the
 * same settings and measure as bench/ort-web-child.ts in Node, one fresh page (and browser context) per setting.
 * A local server on 127.0.0.1 serves onnxruntime-web's dist/, the model, and its random external data (made in
 * this process, never written to disk). The page wraps WebAssembly.Memory before onnxruntime-web loads, reads
 * buffer.byteLength after InferenceSession.create and after runs 1 and 2.
 * Adds `browser` records to the ground-truth file of bench/ort-web-measure.ts.
 *
 * usage: node dist/bench/ort-web-browser.js [--machine TAG] [--only KEY,KEY]
 */
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { loadModelFile } from "../src/formats/load-node.js";
import { randomExternalData } from "../src/runtime/random-weights.js";
import { hostCpu } from "../src/memory/cpu.js";
import { ORT_WEB_SETTINGS } from "./ort-web-settings.js";
import { groundTruthFile } from "./ort-web-measure.js";
import { REPO_ROOT } from "./shared.js";

const CHROMIUM = "/usr/bin/chromium";
const DIST = join(REPO_ROOT, "node_modules", "onnxruntime-web", "dist");

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-web heap</title><script type="module">
const memories = [];
const Original = WebAssembly.Memory;
class Recorded extends Original { constructor(d) { super(d); memories.push(this); } }
WebAssembly.Memory = Recorded;
const heap = () => memories.reduce((a, m) => Math.max(a, m.buffer.byteLength), 0);
window.measure = async (spec) => {
  const ort = await import("/ort/ort.wasm.min.mjs");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = "/ort/";
  const r = { "onnxruntime-web": ort.env.versions.web, crossOriginIsolated: self.crossOriginIsolated };
  try {
    const model = new Uint8Array(await (await fetch("/model")).arrayBuffer());
    const externalData = [];
    for (const path of spec.external) externalData.push({ path, data: new Uint8Array(await (await fetch("/data/" + encodeURIComponent(path))).arrayBuffer()) });
    const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], externalData });
    r.heap_created = heap();
    const feeds = {};
    for (const [name, s] of Object.entries(spec.inputs)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const data = s.dtype === "int64" ? new BigInt64Array(n) : Float32Array.from({ length: n }, () => Math.random());
      feeds[name] = new ort.Tensor(s.dtype, data, s.shape);
    }
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

interface Served {
  model: Uint8Array;
  external: Map<string, Uint8Array>;
}

function serve(current: { value: Served | undefined }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (body: Uint8Array | string, type: string) => {
      res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    const s = current.value;
    if (url.pathname === "/") return send(PAGE, "text/html");
    if (url.pathname === "/model" && s) return send(s.model, "application/octet-stream");
    if (url.pathname.startsWith("/data/") && s) {
      const d = s.external.get(decodeURIComponent(url.pathname.slice(6)));
      if (d) return send(d, "application/octet-stream");
    }
    if (url.pathname.startsWith("/ort/")) {
      const name = normalize(url.pathname.slice(5));
      const file = join(DIST, name);
      if (!name.startsWith("..") && /^[\w.-]+$/.test(name) && existsSync(file)) {
        return send(readFileSync(file), name.endsWith(".wasm") ? "application/wasm" : "text/javascript");
      }
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
  };
  const machine = opt("machine", `host-${hostCpu().isa}`);
  const only = opt("only", "").split(",").filter(Boolean);
  const out = groundTruthFile(machine);
  if (!existsSync(out)) throw new Error(`${out}: measure in Node first (ort-web-measure.js)`);
  const doc = JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, unknown>; runs: Record<string, unknown>[]; browser?: Record<string, unknown>[] };
  const current: { value: Served | undefined } = { value: undefined };
  const server = await serve(current);
  const port = (server.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
  const records = new Map((doc.browser ?? []).map((r) => [r["key"] as string, r]));
  try {
    for (const s of ORT_WEB_SETTINGS) {
      if (only.length > 0 ? !only.includes(s.key) : s.tooBig) continue;
      const { model } = loadModelFile(s.file);
      const external = randomExternalData(model, s.file);
      current.value = { model: readFileSync(s.file), external: new Map(external.files.map((f) => [f.path, f.data])) };
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const t0 = Date.now();
      const r = (await page.evaluate((spec) => (window as unknown as { measure(s: unknown): Promise<unknown> }).measure(spec), { inputs: s.inputs, external: external.files.map((f) => f.path) })) as Record<string, unknown>;
      await context.close();
      records.set(s.key, { key: s.key, ...r, seconds: (Date.now() - t0) / 1000 });
      process.stderr.write(`${s.key}: ${JSON.stringify(records.get(s.key))}\n`);
      doc.browser = ORT_WEB_SETTINGS.map((x) => records.get(x.key)).filter((x) => x !== undefined);
      doc.env["browser"] = `${browser.version()} (Debian's chromium, headless, --disable-gpu), playwright-core; the same measure in a fresh page per setting (bench/ort-web-browser.ts)`;
      writeFileSync(out, JSON.stringify(doc, null, 1) + "\n");
    }
  } finally {
    await browser.close();
    server.close();
  }
  process.stderr.write(`wrote ${out}\n`);
}

await main();
