/**
 * The page's "runs in the browser?" panel in chromium (Debian's, as test/browser.test.ts runs it): the fashion
 * model fits both onnxruntime-web backends; vgg16 at batch 160 does not fit the wasm32 heap (onnxruntime-web
 * fails on it: bench/groundtruth/ort-web*.json) nor WebGPU's default buffer limits. The numbers are the CLI's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { startServer } from "../src/cli/serve.js";
import { LEGACY_FIXTURES } from "../bench/shared.js";
import { CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, ensureChromium } from "../bench/chromium.js";
import { tempDir } from "./temp.js";

const ROOT = process.cwd();
const SHOTS = join(ROOT, "bench", "out", "browser");

function cliLimit(model: string, ...args: string[]): { overBy: number; fits: boolean } {
  const r = spawnSync(process.execPath, ["bin/memlens.js", "analyze", model, "--runtime", "ort-wasm", "--device", "cpu", "--json", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { memory: { limit: { overBy: number; fits: boolean } } }).memory.limit;
}

const skip = ensureChromium();

test("the page's 'runs in the browser?' panel: the fashion model fits; vgg16 at batch 160 does not", { timeout: 120_000, skip: skip ?? false }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const tmp = tempDir("browser-panel");
  const build = (await import(pathToFileURL(join(ROOT, "scripts", "build-web.mjs")).href)) as { buildWeb(out: string): Promise<{ out: string }> };
  const built = await build.buildWeb(join(tmp, "index.html"));
  const served = await startServer(readFileSync(built.out));
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(served.url);
    await page.setInputFiles("#file", "models/fashion-mobilenetv2/model.onnx");
    await page.waitForSelector('[data-testid="status"][data-state="ready"]');
    assert.equal(await page.getAttribute('[data-testid="browser-wasm"]', "data-fits"), "true");
    assert.equal(await page.getAttribute('[data-testid="browser-webgpu"]', "data-fits"), "true");
    assert.match((await page.textContent('[data-testid="browser"]')) ?? "", /wasm32 heap/);
    await page.screenshot({ path: join(SHOTS, "panel-fashion.png"), fullPage: true });

    const vgg = join(LEGACY_FIXTURES, "vgg16.onnx");
    await page.fill("#batch", "160");
    await page.setInputFiles("#file", vgg);
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent?.startsWith("vgg16.onnx") && document.querySelector('[data-testid="status"]')?.getAttribute("data-state") === "ready");
    const wasm = page.locator('[data-testid="browser-wasm"]');
    assert.equal(await wasm.getAttribute("data-fits"), "false");
    const want = cliLimit(vgg, "--batch", "160");
    assert.equal(want.fits, false);
    assert.equal(Number(await wasm.getAttribute("data-over-by")), want.overBy);
    assert.match((await wasm.textContent()) ?? "", /does not fit, by [\d,]+ bytes/);
    assert.equal(await page.getAttribute('[data-testid="browser-webgpu"]', "data-fits"), "false");
    assert.match((await page.textContent('[data-testid="browser-fix"]')) ?? "", /int8|fp16|batch \d+ or less/);
    await page.screenshot({ path: join(SHOTS, "panel-vgg16-b160.png"), fullPage: true });
  } finally {
    await browser?.close();
    await served.close();
  }
});

test("with a WebGPU adapter (SwiftShader in chromium), the panel checks against the limits the adapter reports", { timeout: 120_000, skip: skip ?? false }, async (t) => {
  const tmp = tempDir("browser-panel-gpu");
  const build = (await import(pathToFileURL(join(ROOT, "scripts", "build-web.mjs")).href)) as { buildWeb(out: string): Promise<{ out: string }> };
  const built = await build.buildWeb(join(tmp, "index.html"));
  const served = await startServer(readFileSync(built.out));
  let browser: Browser | undefined;
  try {
    // WebGPU needs a secure context: the page is served from 127.0.0.1.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
    const page = await browser.newPage();
    await page.goto(served.url);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ limits: { maxBufferSize: number } } | null> } }).gpu;
      const a = gpu ? await gpu.requestAdapter() : null;
      return a ? a.limits.maxBufferSize : 0;
    });
    if (adapter === 0) {
      t.skip("this chromium has no WebGPU adapter (SwiftShader): the default-limits test above covers the panel");
      return;
    }
    process.stdout.write(`# WebGPU adapter in chromium: maxBufferSize ${adapter}\n`);
    await page.setInputFiles("#file", join(LEGACY_FIXTURES, "vgg16.onnx"));
    await page.waitForSelector('[data-testid="status"][data-state="ready"]');
    const row = page.locator('[data-testid="browser-webgpu"]');
    // Its 411 MB classifier weight is over WebGPU's default 128 MiB binding, within this adapter's limits.
    await page.waitForFunction((want) => document.querySelector('[data-testid="browser-webgpu"]')?.getAttribute("data-limit") === String(want), adapter);
    assert.equal(await row.getAttribute("data-fits"), adapter >= 411041792 ? "true" : "false");
    assert.match((await row.textContent()) ?? "", /this browser's WebGPU adapter/);
  } finally {
    await browser?.close();
    await served.close();
  }
});
