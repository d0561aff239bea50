// One fresh process: onnxruntime-node CPU memory for one model and any inputs (RSS at each stage, peak RSS).
// The same stages and session options as ort_mem_one.mjs, for models whose inputs are not one image batch.
// usage: node ort_mem_inputs.mjs MODEL.onnx 'SPEC' [nopattern]
//   SPEC: JSON {"NAME": {"dtype": "float32|float16|int64|int32|bool", "shape": [..], "value": V?}, ...}
//   float inputs are random in [0, 1) unless a value is given; integer and bool inputs take `value` (default 0).
import { createRequire } from "node:module";
// Peak RSS of this process: Linux's VmHWM (a new address space starts it at zero on exec); getrusage's maxRSS
// survives exec, so a child forked from a big parent reports the parent's size (seen: 92.5 MiB for every small
// model measured after bench/ort-measure.ts had unzipped imgly-medium). Elsewhere getrusage.
import { readFileSync } from "node:fs";
const peakRss = () => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
};
const require = createRequire(process.env.ORT_FROM ?? import.meta.url);
const ort = require("onnxruntime-node");
const [file, specText, flag] = process.argv.slice(2);
const spec = JSON.parse(specText);
const mb = () => process.memoryUsage().rss;
const r = { file, inputs: spec, memPattern: flag !== "nopattern", rss_start: mb() };
const sess = await ort.InferenceSession.create(file, { executionProviders: ["cpu"], enableMemPattern: flag !== "nopattern", intraOpNumThreads: 2 });
r.rss_created = mb(); r.maxrss_created = peakRss();
const ARRAYS = { float32: Float32Array, float16: Uint16Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array, uint8: Uint8Array, int8: Int8Array };
const feeds = {};
r.input_bytes = 0;
for (const [name, s] of Object.entries(spec)) {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const data = new ARRAYS[s.dtype](n);
  for (let i = 0; i < n; i++) {
    if (s.dtype === "int64") data[i] = BigInt(s.value ?? 0);
    else if (s.dtype === "float32") data[i] = s.value ?? Math.random();
    else if (s.dtype === "float16") data[i] = s.value ?? 0x3800; // 0.5
    else data[i] = s.value ?? 0;
  }
  feeds[name] = new ort.Tensor(s.dtype, data, s.shape);
  r.input_bytes += data.byteLength;
}
r.rss_input = mb();
let out = await sess.run(feeds);
r.rss_run1 = mb(); r.maxrss_run1 = peakRss();
out = await sess.run(feeds);
r.rss_run2 = mb(); r.maxrss_run2 = peakRss();
r.output_bytes = Object.values(out).reduce((a, v) => a + v.data.byteLength, 0);
r.output_shapes = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dims]));
console.log("ORTMEM " + JSON.stringify(r));
