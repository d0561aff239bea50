/**
 * End to end in a real browser: Debian's chromium (installed with apt when missing; never a browser
 * download) driven by playwright-core. The web page is built, served on 127.0.0.1, and given fixture
 * models through its file input; its numbers must be `analyze --json`'s. The HTML report is opened from
 * disk the same way. Every request other than the page itself is refused and counted, so "works offline"
 * is checked, not assumed. Screenshots go to bench/out/browser/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { startServer } from "../src/cli/serve.js";
import { archFromConfig, parameterCount } from "../src/llm/arch.js";
import { llmReport } from "../src/llm/estimate.js";
import { DYNAMO_FIXTURES } from "../bench/shared.js";
import { tempDir } from "./temp.js";
import { llamaConfig, nestedLoopsOnnx } from "./hostile.js";
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from "../bench/chromium.js";

const ROOT = process.cwd();
const DYNAMO = DYNAMO_FIXTURES;
const SHOTS = join(ROOT, "bench", "out", "browser");
const BUDGET = 1_000_000;

interface JsonReport {
  memory: { peakAllocated: number; total: number };
  settings: { cpu: string };
}

function analyzeJson(model: string, ...args: string[]): JsonReport {
  const r = spawnSync(process.execPath, ["bin/memlens.js", "analyze", model, "--json", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonReport;
}

/** Refuses every request that is not for `allowed`, and remembers it. */
async function offline(page: Page, allowed: (url: string) => boolean): Promise<string[]> {
  const refused: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    refused.push(url);
    return route.abort();
  });
  return refused;
}

const bytesOf = (page: Page, id: string) => page.getAttribute(`[data-testid="${id}"]`, "data-bytes").then(Number);

// Decided before the test starts, so a first-time apt install does not count against its timeout.
const skip = ensureChromium();

test("the web page and the HTML report in chromium", { timeout: 180_000, skip: skip ?? false }, async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const tmp = tempDir("browser");
  const build = (await import(pathToFileURL(join(ROOT, "scripts", "build-web.mjs")).href)) as { buildWeb(out: string): Promise<{ out: string; size: number }> };
  const built = await build.buildWeb(join(tmp, "index.html"));
  assert.ok(built.size < BUDGET, `page ${built.size} bytes`);
  const served = await startServer(readFileSync(built.out));
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const refused = await offline(page, (u) => u.startsWith(served.url));
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(served.url);

    await t.test("resnet50 through the file input: the displayed peak is analyze --json's", async () => {
      const model = join(DYNAMO, "resnet50.onnx");
      await page.setInputFiles("#file", model);
      await page.waitForSelector('[data-testid="status"][data-state="ready"]');
      assert.equal(await page.getAttribute("html", "data-engine"), "worker", "the analysis runs in a Web Worker");
      const json = analyzeJson(model, "--batch", "1");
      assert.equal(await bytesOf(page, "peak-allocated"), json.memory.peakAllocated);
      assert.equal(await bytesOf(page, "total"), json.memory.total);

      await page.fill("#batch", "32");
      await page.dispatchEvent("#batch", "change");
      await page.waitForFunction((before) => document.querySelector('[data-testid="peak-allocated"]')?.getAttribute("data-bytes") !== String(before), json.memory.peakAllocated);
      const json32 = analyzeJson(model, "--batch", "32");
      const shown = await bytesOf(page, "peak-allocated");
      assert.notEqual(shown, json.memory.peakAllocated);
      assert.equal(shown, json32.memory.peakAllocated);
      assert.equal(await bytesOf(page, "total"), json32.memory.total);
      await page.waitForSelector('#batch[data-sweep="done"]', { timeout: 60_000 });
      assert.ok((await page.locator(".series-total-dot").count()) >= 2, "batch chart has points");
      await page.screenshot({ path: join(SHOTS, "page-resnet50-b32.png"), fullPage: true });
    });

    await t.test("runtime ort-cpu: the page switches the device to cpu and agrees with analyze --json", async () => {
      const model = join(DYNAMO, "resnet50.onnx");
      await page.selectOption("#runtime", "ort-cpu");
      await page.waitForFunction(() => document.querySelector("#status")?.textContent?.includes("resnet50") && (document.querySelector("#device") as HTMLSelectElement).value === "cpu");
      await page.waitForSelector('[data-testid="status"][data-state="ready"]');
      try {
        // A browser cannot read the CPU's features: the page starts at generic, and the user picks the CPU.
        assert.equal(await page.inputValue("#cpu"), "generic");
        const generic = analyzeJson(model, "--batch", "32", "--runtime", "ort-cpu", "--device", "cpu", "--cpu", "generic");
        assert.equal(await bytesOf(page, "peak-allocated"), generic.memory.peakAllocated);
        const json = analyzeJson(model, "--batch", "32", "--runtime", "ort-cpu", "--device", "cpu");
        await page.selectOption("#cpu", json.settings.cpu);
        await page.waitForFunction((want) => document.querySelector('[data-testid="peak-allocated"]')?.getAttribute("data-bytes") === String(want), json.memory.peakAllocated);
      } finally {
        await page.selectOption("#runtime", "pytorch-cuda");
      }
    });

    await t.test("gpt2 is analysed within 2 s of the file being chosen", async () => {
      await page.fill("#batch", "1");
      const start = Date.now();
      await page.setInputFiles("#file", join(DYNAMO, "gpt2.onnx"));
      await page.waitForFunction(() => {
        const s = document.querySelector('[data-testid="status"]');
        return s?.getAttribute("data-state") === "ready" && s.textContent?.startsWith("gpt2.onnx");
      });
      const inPage = Number(await page.getAttribute('[data-testid="status"]', "data-ms"));
      const outside = Date.now() - start;
      process.stdout.write(`# gpt2.onnx (${statSync(join(DYNAMO, "gpt2.onnx")).size} bytes): analysed ${inPage} ms after the file was chosen (in-page); ${outside} ms seen by the test driver\n`);
      assert.ok(inPage < 2000, `gpt2 took ${inPage} ms in the page`);
      const json = analyzeJson(join(DYNAMO, "gpt2.onnx"), "--batch", "1");
      assert.equal(await bytesOf(page, "peak-allocated"), json.memory.peakAllocated);
      // seq is gpt2's other symbol: the page offers it, and setting it changes the numbers.
      await page.fill('input[data-dim="seq"]', "256");
      await page.dispatchEvent('input[data-dim="seq"]', "change");
      const json256 = analyzeJson(join(DYNAMO, "gpt2.onnx"), "--batch", "1", "--dim", "seq=256");
      await page.waitForFunction((want) => document.querySelector('[data-testid="peak-allocated"]')?.getAttribute("data-bytes") === String(want), json256.memory.peakAllocated);
    });

    await t.test("a config.json (no ONNX graph): the page shows llmReport's numbers", async () => {
      const cfg = { model_type: "gpt2", n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257 };
      await page.setInputFiles("#file", { name: "config.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(cfg)) });
      await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent?.startsWith("config.json"));
      const want = llmReport(
        { file: "config.json", format: "hf-config", arch: archFromConfig(cfg), parameters: parameterCount(archFromConfig(cfg)), weightBytes: undefined, storedTypes: {}, warnings: [] },
        { batch: 1, seq: 512, dtype: "fp32", device: "h100", mode: "inference", newTokens: 0, attn: "sdpa" },
      );
      assert.equal(await bytesOf(page, "peak-allocated"), want.memory!.peakAllocated);
      assert.equal(await bytesOf(page, "total"), want.memory!.total);
      assert.match((await page.textContent('[data-testid="warnings"]')) ?? "", /sequence length not set: using 512/);

      // Generation: a 512-token prompt and 256 new tokens, as `analyze --mode generate` models it (KV cache included).
      await page.fill('input[data-dim="seq"]', "512");
      await page.fill("#new-tokens", "256");
      await page.selectOption("#mode", "generate");
      const gen = llmReport(
        { file: "config.json", format: "hf-config", arch: archFromConfig(cfg), parameters: parameterCount(archFromConfig(cfg)), weightBytes: undefined, storedTypes: {}, warnings: [] },
        { batch: 1, seq: 512, dtype: "fp32", device: "h100", mode: "generate", newTokens: 256, attn: "sdpa" },
      );
      await page.waitForFunction((want) => document.querySelector('[data-testid="peak-allocated"]')?.getAttribute("data-bytes") === String(want), gen.memory!.peakAllocated);
      assert.equal(await bytesOf(page, "total"), gen.memory!.total);
      await page.selectOption("#mode", "inference");
    });

    await t.test("a file that is not a model gives one clear error", async () => {
      await page.setInputFiles("#file", { name: "notes.onnx", mimeType: "application/octet-stream", buffer: Buffer.from("this is not a protobuf at all") });
      await page.waitForSelector('[data-testid="status"][data-state="error"]');
      const text = (await page.textContent('[data-testid="status"]')) ?? "";
      assert.ok(text.length > 0 && text.length < 500, text);
    });

    await t.test("hostile files: bounded in the worker, and a step past the page's budget is stopped; the tab stays usable", async () => {
      // Issue 12's explosive ONNX and config: the core bounds them, so the page answers (a report or one error).
      await page.setInputFiles("#file", { name: "nested-loops.onnx", mimeType: "application/octet-stream", buffer: Buffer.from(nestedLoopsOnnx(30)) });
      await page.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("nested-loops.onnx") || document.querySelector('[data-testid="status"]')?.getAttribute("data-state") === "error", undefined, { timeout: 30_000 });
      await page.setInputFiles("#file", { name: "config.json", mimeType: "application/json", buffer: Buffer.from(llamaConfig({ num_hidden_layers: 1e12 })) });
      await page.waitForFunction(() => /past the plausible limit/.test(document.querySelector("#status")?.textContent ?? ""), undefined, { timeout: 30_000 });
      // A short budget (#budget=MS): a 1,024-layer config (within the limits, about a second of simulation on
      // this machine) runs past 250 ms, its worker is terminated and replaced, and the next file is analysed.
      const budgetPage = await browser!.newPage();
      const refusedHere = await offline(budgetPage, (u) => u.startsWith(served.url));
      await budgetPage.goto(`${served.url}#budget=250`);
      await budgetPage.setInputFiles("#file", { name: "config.json", mimeType: "application/json", buffer: Buffer.from(llamaConfig({ num_hidden_layers: 1024, max_position_embeddings: 4096 })) });
      await budgetPage.waitForFunction(() => /analysis stopped after/.test(document.querySelector("#status")?.textContent ?? ""), undefined, { timeout: 30_000 });
      await budgetPage.setInputFiles("#file", { name: "config.json", mimeType: "application/json", buffer: Buffer.from(llamaConfig()) });
      await budgetPage.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 30_000 });
      assert.deepEqual(refusedHere, []);
      await budgetPage.close();
    });

    assert.deepEqual(refused, [], "the page asked for nothing beyond itself");
    assert.deepEqual(pageErrors, []);

    await t.test("the page opened from disk (file://) works the same, offline", async () => {
      const local = await browser!.newPage();
      const blocked = await offline(local, (u) => u.startsWith("file:"));
      await local.goto(pathToFileURL(built.out).href);
      const model = join(DYNAMO, "resnet50.onnx");
      await local.setInputFiles("#file", model);
      await local.waitForSelector('[data-testid="status"][data-state="ready"]');
      assert.equal(await bytesOf(local, "peak-allocated"), analyzeJson(model, "--batch", "1").memory.peakAllocated);
      process.stdout.write(`# file:// page: analysis engine '${await local.getAttribute("html", "data-engine")}'\n`);
      // Where no worker can start, the same engine runs in the page.
      await local.goto(`${pathToFileURL(built.out).href}#no-worker`);
      await local.reload();
      assert.equal(await local.getAttribute("html", "data-engine"), "page");
      await local.setInputFiles("#file", model);
      await local.waitForSelector('[data-testid="status"][data-state="ready"]');
      await local.fill("#batch", "32");
      await local.dispatchEvent("#batch", "change");
      const json32 = analyzeJson(model, "--batch", "32");
      await local.waitForFunction((want) => document.querySelector('[data-testid="peak-allocated"]')?.getAttribute("data-bytes") === String(want), json32.memory.peakAllocated);
      await local.waitForSelector('#batch[data-sweep="done"]', { timeout: 60_000 });
      assert.deepEqual(blocked, []);
      await local.close();
    });

    await t.test("report.html for resnet50 at batch 32 opens from disk with no network", async () => {
      const file = join(tmp, "report.html");
      const model = join(DYNAMO, "resnet50.onnx");
      const r = spawnSync(process.execPath, ["bin/memlens.js", "analyze", model, "--batch", "32", "--html", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const size = statSync(file).size;
      process.stdout.write(`# report.html for resnet50 batch 32: ${size} bytes; web page: ${built.size} bytes\n`);
      assert.ok(size < BUDGET);
      const report = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
      const blocked = await offline(report, (u) => u.startsWith("file:"));
      await report.goto(pathToFileURL(file).href);
      const json = analyzeJson(model, "--batch", "32");
      assert.equal(await bytesOf(report, "peak-allocated"), json.memory.peakAllocated);
      assert.match((await report.textContent('[data-testid="timeline-peak"]')) ?? "", /^peak .* allocated at /);
      assert.ok(await report.isVisible('[data-testid="waterfall-total"]'));
      await report.screenshot({ path: join(SHOTS, "report-resnet50-b32.png"), fullPage: true });
      assert.deepEqual(blocked, []);
    });
  } finally {
    await browser?.close();
    await served.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
