/**
 * The buffers onnxruntime-web's WebGPU execution provider allocates, measured in headless chromium with
 * WebGPU on SwiftShader (Debian's chromium, --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader): the page
 * wraps GPUDevice.prototype.createBuffer before onnxruntime-web loads and records every size; then it creates
 * a session (weights uploaded) and runs it once (activations). The largest buffer is compared with what
 * `--runtime ort-webgpu` names (bench:ort-web). Writes bench/groundtruth/ort-web<version>-webgpu-swiftshader.json.
 *
 * usage: node dist/bench/ort-webgpu-browser.js [--only KEY,KEY]
 */
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { loadModelFile } from "../src/formats/load-node.js";
import { randomExternalData } from "../src/runtime/random-weights.js";
import { ORT_WEBGPU_SETTINGS } from "./ort-web-settings.js";
import { ortWebVersion } from "./ort-web-measure.js";
import { GROUNDTRUTH, REPO_ROOT } from "./shared.js";

const CHROMIUM = "/usr/bin/chromium";
const DIST = join(REPO_ROOT, "node_modules", "onnxruntime-web", "dist");
export const WEBGPU_ARGS = ["--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan", "--no-first-run"];

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-webgpu buffers</title><script type="module">
const sizes = [];
const create = GPUDevice.prototype.createBuffer;
GPUDevice.prototype.createBuffer = function (d) { sizes.push(d.size); return create.call(this, d); };
window.measure = async (spec) => {
  const ort = await import("/ort/ort.webgpu.min.mjs");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = "/ort/";
  const adapter = await navigator.gpu.requestAdapter();
  const r = { "onnxruntime-web": ort.env.versions.web, adapter: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, vendor: adapter.info?.vendor, architecture: adapter.info?.architecture } };
  try {
    const model = new Uint8Array(await (await fetch("/model")).arrayBuffer());
    const externalData = [];
    for (const path of spec.external) externalData.push({ path, data: new Uint8Array(await (await fetch("/data/" + encodeURIComponent(path))).arrayBuffer()) });
    const session = await ort.InferenceSession.create(model, { executionProviders: ["webgpu"], externalData });
    r.created = { count: sizes.length, largest: Math.max(0, ...sizes) };
    const feeds = {};
    for (const [name, s] of Object.entries(spec.inputs)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const data = s.dtype === "int64" ? new BigInt64Array(n) : Float32Array.from({ length: n }, () => Math.random());
      feeds[name] = new ort.Tensor(s.dtype, data, s.shape);
    }
    await session.run(feeds);
    r.run1 = { count: sizes.length, largest: Math.max(0, ...sizes) };
    r.top = [...sizes].sort((a, b) => b - a).slice(0, 8);
    await session.release();
  } catch (e) {
    r.error = String(e && e.message || e).split("\\n")[0].slice(0, 300);
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
      if (/^[\w.-]+$/.test(name) && existsSync(file)) return send(readFileSync(file), name.endsWith(".wasm") ? "application/wasm" : "text/javascript");
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const i = args.indexOf("--only");
  const only = i >= 0 && args[i + 1] ? args[i + 1]!.split(",") : [];
  const out = join(GROUNDTRUTH, `ort-web${ortWebVersion()}-webgpu-swiftshader.json`);
  const current: { value: Served | undefined } = { value: undefined };
  const server = await serve(current);
  const port = (server.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as { runs: Record<string, unknown>[] }).runs : [];
  const runs = new Map(previous.map((r) => [r["key"] as string, r]));
  try {
    for (const s of ORT_WEBGPU_SETTINGS) {
      if (only.length > 0 && !only.includes(s.key)) continue;
      const { model } = loadModelFile(s.file);
      const external = randomExternalData(model, s.file);
      current.value = { model: readFileSync(s.file), external: new Map(external.files.map((f) => [f.path, f.data])) };
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const t0 = Date.now();
      const r = (await page.evaluate((spec) => (window as unknown as { measure(s: unknown): Promise<unknown> }).measure(spec), { inputs: s.inputs, external: external.files.map((f) => f.path) })) as Record<string, unknown>;
      await context.close();
      runs.set(s.key, { key: s.key, file: s.file.slice(REPO_ROOT.length + 1), inputs: s.inputs, ...r, seconds: (Date.now() - t0) / 1000 });
      process.stderr.write(`${s.key}: ${JSON.stringify(runs.get(s.key))}\n`);
      const env = {
        "onnxruntime-web": ortWebVersion(),
        browser: `${browser.version()} (Debian's chromium, headless), WebGPU on SwiftShader: ${WEBGPU_ARGS.join(" ")}`,
        measure: "every GPUDevice.createBuffer size (wrapped before onnxruntime-web loads): the largest after InferenceSession.create (weights) and after one run; ort.webgpu.min.mjs, executionProviders ['webgpu']",
        weights: "random values at the declared external-data offsets (src/runtime/random-weights.ts)",
        measured: new Date().toISOString().slice(0, 10),
      };
      writeFileSync(out, JSON.stringify({ env, runs: ORT_WEBGPU_SETTINGS.map((x) => runs.get(x.key)).filter((x) => x !== undefined) }, null, 1) + "\n");
    }
  } finally {
    await browser.close();
    server.close();
  }
  process.stderr.write(`wrote ${out}\n`);
}

await main();
