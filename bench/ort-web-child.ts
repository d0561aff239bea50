/**
 * One fresh process: onnxruntime-web's wasm backend (its CPU provider compiled to WebAssembly) in Node,
 * measuring the wasm heap. The heap is the WebAssembly.Memory the Emscripten module creates; the measure is
 * its buffer's byteLength, which only grows (memory.grow), so it is the heap's high-water mark. onnxruntime-web
 * does not hand out that Memory, so the constructor is wrapped before the module loads to keep a reference.
 * Weights absent from the fixture get random values (--random-weights' generator), passed as external data.
 *
 * usage: node dist/bench/ort-web-child.js MODEL.onnx 'SPEC' [probe|probe-noprepack]
 *   SPEC: JSON {"NAME": {"dtype": "float32|int64|...", "shape": [..], "value": V?}} as ort_mem_inputs.mjs
 *   probe: after the session is created, malloc 1 GiB through the module's own malloc and free it: a request
 *   larger than any free chunk is placed at dlmalloc's top, so its address is the heap's footprint then
 *   (`top_created`), which byteLength only shows rounded to a growth step. Nothing is run. probe-noprepack: the
 *   same with the session option session.disable_prepacking (what the weights cost without MLAS's packed copies).
 * prints one line: ORTWEB {"heap_created", "heap_run1", "heap_run2", "error"?, ...}
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { loadModelFile } from "../src/formats/load-node.js";
import { randomExternalData } from "../src/runtime/random-weights.js";

interface InputSpec {
  dtype: string;
  shape: number[];
  value?: number;
}

const memories: WebAssembly.Memory[] = [];
const Original = WebAssembly.Memory;
// A subclass keeps instanceof checks and the prototype intact; it only remembers each instance.
class Recorded extends Original {
  constructor(descriptor: WebAssembly.MemoryDescriptor) {
    super(descriptor);
    memories.push(this);
  }
}
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Recorded;

const heap = () => memories.reduce((a, m) => Math.max(a, m.buffer.byteLength), 0);

// The module's exports, for the probe: Emscripten names malloc/free by minified keys, read from its glue.
let wasmExports: Record<string, unknown> | undefined;
const instantiate = WebAssembly.instantiate;
(WebAssembly as { instantiate: unknown }).instantiate = async (...args: Parameters<typeof WebAssembly.instantiate>) => {
  const r = (await (instantiate as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args)) as { instance?: WebAssembly.Instance } & WebAssembly.Instance;
  wasmExports = (r.instance ?? r).exports as Record<string, unknown>;
  return r;
};

function probeTop(glue: string): number {
  const malloc = /_malloc=\w+\.(\w+)/.exec(glue)?.[1];
  const free = /_free=\w+\.(\w+)/.exec(glue)?.[1];
  const m = malloc ? wasmExports?.[malloc] : undefined;
  const f = free ? wasmExports?.[free] : undefined;
  if (typeof m !== "function" || typeof f !== "function") throw new Error("probe: malloc/free not found in the module's exports");
  const p = (m as (n: number) => number)(1 << 30);
  if (p === 0) throw new Error("probe: malloc(1 GiB) failed");
  (f as (p: number) => void)(p);
  return p >>> 0;
}

async function main(): Promise<void> {
  const [file, specText, mode] = process.argv.slice(2);
  if (!file || !specText) throw new Error("usage: ort-web-child MODEL.onnx SPEC");
  const spec = JSON.parse(specText) as Record<string, InputSpec>;
  const require = createRequire(import.meta.url);
  // The "node" export is dist/ort.node.min.js; the .wasm files sit beside it.
  const distDir = dirname(require.resolve("onnxruntime-web"));
  const ort = (await import("onnxruntime-web")) as typeof import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = distDir + "/";
  const r: Record<string, unknown> = { file, inputs: spec, "onnxruntime-web": ort.env.versions.web };
  const { model } = loadModelFile(file);
  const external = randomExternalData(model, file);
  const bytes = readFileSync(file);
  r["model_bytes"] = bytes.byteLength;
  r["external_bytes"] = external.bytes;
  const stage = (name: string) => {
    r[`heap_${name}`] = heap();
  };
  try {
    // Creating a session loads the module (its Memory appears then); an empty heap reads 0 before that.
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["wasm"],
      externalData: external.files.map((f) => ({ path: f.path, data: f.data })),
      ...(mode === "probe-noprepack" ? { extra: { session: { disable_prepacking: "1" } } } : {}),
    });
    stage("created");
    if (mode?.startsWith("probe")) {
      r["top_created"] = probeTop(readFileSync(`${distDir}/ort-wasm-simd-threaded.mjs`, "utf8"));
      r["probe"] = mode;
      console.log("ORTWEB " + JSON.stringify(r));
      return;
    }
    r["heap_initial"] = memories[0] ? 256 * 65536 : 0;
    const ARRAYS: Record<string, new (n: number) => ArrayLike<unknown>> = {
      float32: Float32Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array, uint8: Uint8Array, int8: Int8Array,
    };
    const feeds: Record<string, import("onnxruntime-web").Tensor> = {};
    let inputBytes = 0;
    for (const [name, s] of Object.entries(spec)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const Ctor = ARRAYS[s.dtype];
      if (!Ctor) throw new Error(`input dtype ${s.dtype} not handled`);
      const data = new Ctor(n) as Float32Array | BigInt64Array;
      for (let i = 0; i < n; i++) {
        if (data instanceof BigInt64Array) data[i] = BigInt(s.value ?? 0);
        else data[i] = s.value ?? (s.dtype === "float32" ? Math.random() : 0);
      }
      feeds[name] = new ort.Tensor(s.dtype as "float32", data as Float32Array, s.shape);
      inputBytes += (data as Float32Array).byteLength;
    }
    r["input_bytes"] = inputBytes;
    let out = await session.run(feeds);
    stage("run1");
    out = await session.run(feeds);
    stage("run2");
    r["output_bytes"] = Object.values(out).reduce((a, v) => a + (v.data as Float32Array).byteLength, 0);
    r["output_shapes"] = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dims]));
    await session.release();
  } catch (e) {
    r["error"] = String((e as Error).message ?? e).split("\n")[0]!.slice(0, 300);
    stage("failed");
  }
  r["heap_maximum"] = 65536 * 65536 - 65536;
  console.log("ORTWEB " + JSON.stringify(r));
}

await main();
