/**
 * What bench/ort-web-browser.ts and bench/ort-webgpu-browser.ts share: a local server on 127.0.0.1 that serves a
 * measuring page, onnxruntime-web's dist/, the model and its random external data (made in this process, never
 * written to disk), and a loop that opens one fresh browser context per setting and calls the page's
 * `window.measure(spec)`. Each page wraps the browser API it measures before onnxruntime-web loads.
 */
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { loadModelFile } from "../src/formats/load-node.js";
import { randomExternalData } from "../src/runtime/random-weights.js";
import { CHROMIUM } from "./chromium.js";
import type { OrtWebSetting } from "./ort-web-settings.js";
import { REPO_ROOT } from "./shared.js";

const DIST = join(REPO_ROOT, "node_modules", "onnxruntime-web", "dist");

/**
 * Page-side JavaScript shared by the measuring pages: `loadSession(ort, spec, providers)` fetches the model and its
 * external data and creates the session; `feedsOf(ort, spec)` makes the inputs (zeros for int64, uniform floats).
 */
export const PAGE_HELPERS = `
const loadSession = async (ort, spec, executionProviders) => {
  const model = new Uint8Array(await (await fetch("/model")).arrayBuffer());
  const externalData = [];
  for (const path of spec.external) externalData.push({ path, data: new Uint8Array(await (await fetch("/data/" + encodeURIComponent(path))).arrayBuffer()) });
  return ort.InferenceSession.create(model, { executionProviders, externalData });
};
const feedsOf = (ort, spec) => {
  const feeds = {};
  for (const [name, s] of Object.entries(spec.inputs)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = s.dtype === "int64" ? new BigInt64Array(n) : Float32Array.from({ length: n }, () => Math.random());
    feeds[name] = new ort.Tensor(s.dtype, data, s.shape);
  }
  return feeds;
};`;

export interface Served {
  model: Uint8Array;
  external: Map<string, Uint8Array>;
}

/** The measuring page, onnxruntime-web's files and the current model on 127.0.0.1 (a free port). */
export function servePage(page: string, current: { value: Served | undefined }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (body: Uint8Array | string, type: string) => {
      res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    const s = current.value;
    if (url.pathname === "/") return send(page, "text/html");
    if (url.pathname === "/model" && s) return send(s.model, "application/octet-stream");
    if (url.pathname.startsWith("/data/") && s) {
      const d = s.external.get(decodeURIComponent(url.pathname.slice(6)));
      if (d) return send(d, "application/octet-stream");
    }
    if (url.pathname.startsWith("/ort/")) {
      // Only plain file names inside onnxruntime-web's dist/: no path ever leaves it.
      const name = normalize(url.pathname.slice(5));
      const file = join(DIST, name);
      if (!name.startsWith("..") && /^[\w.-]+$/.test(name) && existsSync(file)) return send(readFileSync(file), name.endsWith(".wasm") ? "application/wasm" : "text/javascript");
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Runs `window.measure` of `page` once per setting, each in a fresh browser context, and hands every result to
 * `record` as it comes (so a long run leaves its results on disk setting by setting).
 */
export async function measureInChromium(
  page: string,
  args: readonly string[],
  settings: readonly OrtWebSetting[],
  record: (setting: OrtWebSetting, result: Record<string, unknown>, seconds: number, browserVersion: string) => void,
): Promise<void> {
  const current: { value: Served | undefined } = { value: undefined };
  const server = await servePage(page, current);
  const port = (server.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...args] });
  try {
    for (const s of settings) {
      const { model } = loadModelFile(s.file);
      const external = randomExternalData(model, s.file);
      current.value = { model: readFileSync(s.file), external: new Map(external.files.map((f) => [f.path, f.data])) };
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`http://127.0.0.1:${port}/`);
      const t0 = Date.now();
      const spec = { inputs: s.inputs, external: external.files.map((f) => f.path) };
      const result = (await tab.evaluate((x) => (window as unknown as { measure(s: unknown): Promise<unknown> }).measure(x), spec)) as Record<string, unknown>;
      await context.close();
      record(s, result, (Date.now() - t0) / 1000, browser.version());
    }
  } finally {
    await browser.close();
    server.close();
  }
}
