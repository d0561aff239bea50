#!/usr/bin/env node
/**
 * Bundles the CLI (dist/src/cli/main.js, as tsc wrote it) into one CommonJS file, dist/bundle/cli/memlens.cjs,
 * plus V8's code cache for it (memlens.cjs.cache), because a cold start is most of a command's time (issue 17):
 * Node's ES module loader costs about half a millisecond per module (the CLI has ~90), and compiling the
 * functions a command runs costs as much again. bin/entry.js runs the bundle with the cache.
 * - Modules reached only through `import()` stay lazy: esbuild initialises them on first use.
 * - npm packages other than BUNDLED stay outside (sharp and onnxruntime-node load only with the commands that
 *   need them); their `import()` becomes `require()`, so the bundle holds no dynamic import.
 * - The bundle sits as deep as dist/src/cli/, so paths the code derives from import.meta.url still resolve.
 * - The cache is V8's own format, written after a warm-up run of analyze/layers/fit on fixture models, and
 *   checked by V8 against the source and the Node version when loaded: a mismatch only costs the compile.
 * Usage: node scripts/build-cli.mjs
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Pure-JavaScript dependencies worth bundling; every other package stays a require(). */
const BUNDLED = new Set(["citty"]);

export async function buildCli() {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies }).filter((p) => !BUNDLED.has(p));
  const { BUNDLE, CODE_CACHE, loadBundle } = await import(pathToFileURL(join(ROOT, "bin", "entry.js")).href);
  rmSync(dirname(BUNDLE), { recursive: true, force: true });
  await build({
    entryPoints: [join(ROOT, "dist", "src", "cli", "main.js")],
    outfile: BUNDLE,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external,
    define: { "import.meta.url": "__memlens_bundle_url" },
    supported: { "dynamic-import": false },
    logLevel: "warning",
  });
  if (/\bimport\(/.test(readFileSync(BUNDLE, "utf8").replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""))) {
    rmSync(BUNDLE);
    throw new Error("the CLI bundle still holds a dynamic import()");
  }
  const { run, script } = loadBundle();
  await warmUp(run);
  writeFileSync(CODE_CACHE, script.createCachedData());
  return BUNDLE;
}

/** Run the commands whose start-up matters, with their output dropped, so the cache holds their functions. */
async function warmUp(run) {
  const fixtures = join(ROOT, "bench", "fixtures", "onnx-dynamo");
  const models = ["gpt2.onnx", "resnet18.onnx"].map((m) => join(fixtures, m)).filter(existsSync);
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    for (const m of models) {
      await run(["analyze", m, "--json"]);
      await run(["analyze", m]);
      await run(["layers", m]);
      await run(["fit", m, "--json"]);
    }
  } finally {
    process.stdout.write = write;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildCli();
  } catch (e) {
    console.error(`build-cli: ${e.message}`);
    process.exit(1);
  }
}
