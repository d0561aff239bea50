#!/usr/bin/env node
/**
 * Builds the web page: bundles web/app.ts and its analysis worker web/worker.ts (and the core they import
 * from src/) for the browser with esbuild, and inlines them into web/index.html, so the page is one file
 * that works offline.
 * Usage: node scripts/build-web.mjs [--out FILE]   (default dist/web/index.html)
 * Fails when the page would reach the 1 MB budget, or when anything in the bundle imports a Node module.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PAGE_BUDGET_BYTES = 1_000_000;

const BUNDLE = { bundle: true, platform: "browser", format: "iife", target: "es2022", minify: true, legalComments: "none", write: false, logLevel: "silent" };

export async function buildWeb(out = join(ROOT, "dist", "web", "index.html")) {
  // The analysis worker first: the page starts it from a blob of this source (no second file to fetch).
  const worker = await build({ ...BUNDLE, entryPoints: [join(ROOT, "web", "worker.ts")] });
  const result = await build({
    ...BUNDLE,
    entryPoints: [join(ROOT, "web", "app.ts")],
    define: { __MEMLENS_WORKER__: JSON.stringify(worker.outputFiles[0].text) },
  });
  const js = result.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1");
  const template = readFileSync(join(ROOT, "web", "index.html"), "utf8");
  if (!template.includes("<!--APP-->")) throw new Error("web/index.html has no <!--APP--> placeholder");
  const html = template.replace("<!--APP-->", () => `<script>${js}</script>`);
  const size = Buffer.byteLength(html);
  if (size >= PAGE_BUDGET_BYTES) throw new Error(`web page is ${size} bytes, over the ${PAGE_BUDGET_BYTES}-byte budget`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return { out, size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--out");
  try {
    const { out, size } = await buildWeb(i > 0 ? process.argv[i + 1] : undefined);
    process.stdout.write(`web page: ${out} (${size} bytes)\n`);
  } catch (e) {
    const errors = e.errors?.map((x) => `${x.location?.file ?? ""}:${x.location?.line ?? ""} ${x.text}`).join("\n");
    process.stderr.write(`build-web: ${errors || e.message}\n`);
    process.exit(1);
  }
}
