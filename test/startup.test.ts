/**
 * Start-up (issue 17): `analyze`, `layers` and `fit` never load sharp, onnxruntime-node, the web page or the
 * chart code, and the CLI that bin/memlens.js runs is a bundle of a few files, not ~90 modules. A probe loaded
 * with --import records every module the process loads: ES modules through a resolve hook, CommonJS modules
 * from require.cache, and native addons through process.dlopen. A positive control proves the probe sees sharp.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DYNAMO_FIXTURES, REPO_ROOT } from "../bench/shared.js";
import { tempDir } from "./temp.js";

const GPT2 = join(DYNAMO_FIXTURES, "gpt2.onnx");
const BUNDLE = join(REPO_ROOT, "dist", "bundle", "cli", "memlens.cjs");
const COMPILED_MAIN = join(REPO_ROOT, "dist", "src", "cli", "main.js");
/**
 * What a shape-and-memory command must never load: native packages (sharp, onnxruntime), the web page, the chart
 * code, and the modules that load onnxruntime or sharp (runtime/ort.js, runtime/image.js).
 */
const FORBIDDEN = [/node_modules\/(sharp|@img|onnxruntime-node|onnxruntime-common|onnxruntime-web|playwright)/, /^dlopen:/, /dist\/web\//, /dist\/src\/report\/(charts|html|svg)\.js/, /dist\/src\/runtime\/(ort|image)\.js/];

const HOOKS = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (!r.url.startsWith("node:")) appendFileSync(process.env.MEMLENS_PROBE_OUT, r.url + "\\n");
  return r;
}`;
const PROBE = (hooks: string) => `import { register, createRequire } from "node:module";
import { appendFileSync } from "node:fs";
register(${JSON.stringify(pathToFileURL(hooks).href)});
const out = process.env.MEMLENS_PROBE_OUT;
const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) {
  appendFileSync(out, "dlopen:" + file + "\\n");
  return dlopen.call(this, module, file, ...rest);
};
process.on("exit", () => appendFileSync(out, Object.keys(createRequire(import.meta.url).cache).map((f) => "cjs:" + f + "\\n").join("")));`;

function probe(dir: string): string {
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(hooks, HOOKS);
  const p = join(dir, "probe.mjs");
  writeFileSync(p, PROBE(hooks));
  return p;
}

/** Every module a node process loads (paths relative to the repository where they are in it). */
function loadedBy(dir: string, name: string, args: string[]): string[] {
  const out = join(dir, `${name}.log`);
  writeFileSync(out, "");
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(probe(dir)).href, ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, MEMLENS_PROBE_OUT: out },
  });
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  const root = pathToFileURL(REPO_ROOT).href + "/";
  return [...new Set(readFileSync(out, "utf8").split("\n").filter((l) => l !== ""))].map((l) => l.replace(root, "").replace(`cjs:${REPO_ROOT}/`, "cjs:"));
}

const COMMANDS = [["analyze", GPT2, "--json"], ["layers", GPT2], ["fit", GPT2, "--json"]];

test("the probe sees a native package load (the checks below can fail)", () => {
  const dir = tempDir("startup");
  const seen = loadedBy(dir, "control", ["--input-type=module", "-e", "await import('sharp')"]);
  assert.ok(seen.some((m) => FORBIDDEN[0]!.test(m)), `sharp not seen in: ${seen.join(", ")}`);
  assert.ok(seen.some((m) => m.startsWith("dlopen:")), "sharp's native addon not seen");
});

test("analyze, layers and fit (tsc's modules) load no native package, page, chart or onnxruntime/sharp code", () => {
  const dir = tempDir("startup");
  for (const cmd of COMMANDS) {
    const entry = `const { run } = await import(${JSON.stringify(pathToFileURL(COMPILED_MAIN).href)}); process.exitCode = await run(${JSON.stringify(cmd)});`;
    const seen = loadedBy(dir, cmd[0]!, ["--input-type=module", "-e", entry]);
    assert.ok(seen.includes("dist/src/cli/main.js") && seen.some((m) => m.startsWith("dist/src/shapes/")), `${cmd[0]}: the probe saw the engine load`);
    const bad = seen.filter((m) => FORBIDDEN.some((f) => f.test(m)));
    assert.deepEqual(bad, [], `${cmd[0]} loaded ${bad.join(", ")}`);
  }
});

test("bin/memlens.js runs the bundle: a handful of files, and no native package", (t) => {
  let fresh = false;
  try {
    fresh = statSync(BUNDLE).mtimeMs >= statSync(COMPILED_MAIN).mtimeMs;
  } catch {
    // not built
  }
  if (!fresh) {
    t.skip("the CLI bundle is not built or older than tsc's output (npm test and npm run build build it)");
    return;
  }
  const dir = tempDir("startup");
  for (const cmd of COMMANDS) {
    const seen = loadedBy(dir, `bundle-${cmd[0]}`, ["bin/memlens.js", ...cmd]);
    const ours = seen.filter((m) => !m.includes("node_modules/") && !m.startsWith("file:///") && !m.startsWith("cjs:/"));
    assert.ok(ours.includes("bin/entry.js"), `${cmd[0]}: ${seen.join(", ")}`);
    assert.ok(!ours.some((m) => m.startsWith("dist/src/")), `${cmd[0]} loaded tsc's modules: ${ours.join(", ")}`);
    assert.ok(ours.length <= 4, `${cmd[0]} loaded ${ours.length} files of its own: ${ours.join(", ")}`);
    const bad = seen.filter((m) => FORBIDDEN.some((f) => f.test(m)));
    assert.deepEqual(bad, [], `${cmd[0]} loaded ${bad.join(", ")}`);
  }
});
