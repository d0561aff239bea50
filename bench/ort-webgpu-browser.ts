/**
 * The buffers onnxruntime-web's WebGPU execution provider allocates, measured in headless chromium with
 * WebGPU on SwiftShader (Debian's chromium, --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader): the page
 * wraps GPUDevice.prototype.createBuffer before onnxruntime-web loads and records every size; then it creates
 * a session (weights uploaded) and runs it once (activations). The largest buffer is compared with what
 * `--runtime ort-webgpu` names (bench:ort-web). Writes bench/groundtruth/ort-web<version>-webgpu-swiftshader.json.
 *
 * usage: node dist/bench/ort-webgpu-browser.js [--only KEY,KEY]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WEBGPU_ARGS } from "./chromium.js";
import { ORT_WEBGPU_SETTINGS } from "./ort-web-settings.js";
import { ortWebVersion } from "./ort-web-measure.js";
import { measureInChromium, PAGE_HELPERS } from "./ort-web-page.js";
import { option } from "./option.js";
import { GROUNDTRUTH, REPO_ROOT } from "./shared.js";

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-webgpu buffers</title><script type="module">
const sizes = [];
const create = GPUDevice.prototype.createBuffer;
GPUDevice.prototype.createBuffer = function (d) { sizes.push(d.size); return create.call(this, d); };
${PAGE_HELPERS}
window.measure = async (spec) => {
  const ort = await import("/ort/ort.webgpu.min.mjs");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = "/ort/";
  const adapter = await navigator.gpu.requestAdapter();
  const r = { "onnxruntime-web": ort.env.versions.web, adapter: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, vendor: adapter.info?.vendor, architecture: adapter.info?.architecture } };
  try {
    const session = await loadSession(ort, spec, ["webgpu"]);
    r.created = { count: sizes.length, largest: Math.max(0, ...sizes) };
    await session.run(feedsOf(ort, spec));
    r.run1 = { count: sizes.length, largest: Math.max(0, ...sizes) };
    r.top = [...sizes].sort((a, b) => b - a).slice(0, 8);
    await session.release();
  } catch (e) {
    r.error = String(e && e.message || e).split("\\n")[0].slice(0, 300);
  }
  return r;
};
</script>`;

async function main(): Promise<void> {
  const only = option(process.argv.slice(2), "only", "").split(",").filter(Boolean);
  const out = join(GROUNDTRUTH, `ort-web${ortWebVersion()}-webgpu-swiftshader.json`);
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as { runs: Record<string, unknown>[] }).runs : [];
  const runs = new Map(previous.map((r) => [r["key"] as string, r]));
  const settings = ORT_WEBGPU_SETTINGS.filter((s) => only.length === 0 || only.includes(s.key));
  await measureInChromium(PAGE, WEBGPU_ARGS, settings, (s, r, seconds, version) => {
    runs.set(s.key, { key: s.key, file: s.file.slice(REPO_ROOT.length + 1), inputs: s.inputs, ...r, seconds });
    process.stderr.write(`${s.key}: ${JSON.stringify(runs.get(s.key))}\n`);
    const env = {
      "onnxruntime-web": ortWebVersion(),
      browser: `${version} (Debian's chromium, headless), WebGPU on SwiftShader: ${WEBGPU_ARGS.join(" ")}`,
      measure: "every GPUDevice.createBuffer size (wrapped before onnxruntime-web loads): the largest after InferenceSession.create (weights) and after one run; ort.webgpu.min.mjs, executionProviders ['webgpu']",
      weights: "random values at the declared external-data offsets (src/runtime/random-weights.ts)",
      measured: new Date().toISOString().slice(0, 10),
    };
    writeFileSync(out, JSON.stringify({ env, runs: ORT_WEBGPU_SETTINGS.map((x) => runs.get(x.key)).filter((x) => x !== undefined) }, null, 1) + "\n");
  });
  process.stderr.write(`wrote ${out}\n`);
}

await main();
