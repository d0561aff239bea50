// The CLI to run: the bundle that scripts/build-cli.mjs writes (one file, compiled from V8's code cache) when it
// is at least as new as tsc's output, else tsc's output itself, so a `tsc` after the bundle never runs stale code.
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

export const BUNDLE = fileURLToPath(new URL("../dist/bundle/cli/memlens.cjs", import.meta.url));
export const CODE_CACHE = `${BUNDLE}.cache`;
const COMPILED = new URL("../dist/src/cli/main.js", import.meta.url);

function bundleIsFresh() {
  try {
    return statSync(BUNDLE).mtimeMs >= statSync(COMPILED).mtimeMs;
  } catch {
    return false;
  }
}

/** The bundle's exports (`run`) and its vm.Script (for the code cache). */
export function loadBundle() {
  const source = readFileSync(BUNDLE, "utf8");
  let cachedData;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    // no cache: V8 compiles as usual
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __memlens_bundle_url) {${source}\n})`, {
    filename: BUNDLE,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE), pathToFileURL(BUNDLE).href);
  return { run: module.exports.run, script };
}

/** `run(argv)` of the CLI: the fresh bundle, or tsc's modules. */
export async function cliRun() {
  if (bundleIsFresh()) return loadBundle().run;
  return (await import(COMPILED.href)).run;
}
