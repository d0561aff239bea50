/**
 * `npm run bench:quantize`: issue 5's speed target and its accuracy numbers, on the bundled fashion model.
 *   1. quantize int8 static with calibration on 512 images (Fashion-MNIST training images), write the file: < 30 s
 *   2. the same from the 256 PNGs of calibration/ (decoding included), for comparison
 *   3. with --accuracy: Fashion-MNIST test accuracy (10,000 images) before/after for static minmax,
 *      static percentile and dynamic, and int4 (no MatMul/Gemm besides the classifier: shown for the file size)
 * Exit code 1 when the speed target or an accuracy target is missed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemlensModel } from "../src/runtime/model.js";
import { readIdx, toBatches } from "../src/quantize/dataset.js";
import { quantize } from "../src/quantize/model.js";
import type { QuantizeOptions } from "../src/quantize/quantize.js";

const MODEL = new URL("../../models/fashion-mobilenetv2/model.onnx", import.meta.url).pathname;
const DATA = "/usr/share/datasets/fashion-mnist";
const TARGET_S = 30;

const withAccuracy = process.argv.includes("--accuracy");
const out = mkdtempSync(join(tmpdir(), "memlens-bench-quantize-"));
let failed = false;

async function run(label: string, opts: QuantizeOptions, prepare?: () => QuantizeOptions["calibrate"]) {
  const t0 = performance.now();
  const source = MemlensModel.load(MODEL);
  try {
    const calibrate = prepare?.();
    const q = await quantize(source, calibrate ? { ...opts, calibrate } : opts);
    const report = q.report;
    const file = q.save(join(out, `${label}.onnx`));
    const fp32 = source.fileBytes!;
    const wall = (performance.now() - t0 - report.seconds.evaluate * 1000) / 1000;
    const a = report.accuracy;
    console.log(
      `${label.padEnd(28)} ${wall.toFixed(2).padStart(6)} s (calibrate ${report.seconds.calibrate.toFixed(2)} s)` +
        `  file ${(file / 1e6).toFixed(2)} MB = ${((100 * file) / fp32).toFixed(1)}% of fp32` +
        (a ? `  accuracy ${(100 * a.before).toFixed(2)}% -> ${(100 * a.after).toFixed(2)}% (${(100 * (a.after - a.before)).toFixed(2)} pts, agreement ${(100 * a.agreement).toFixed(2)}%, ${a.images} images)` : ""),
    );
    return { wall, report, file, fp32 };
  } finally {
    await source.close();
  }
}

const spec = MemlensModel.load(MODEL).imageSpec();
const train512 = () => {
  const { images } = readIdx(join(DATA, "train-images-idx3-ubyte.gz"), join(DATA, "train-labels-idx1-ubyte.gz"), spec, 512);
  return toBatches(images, spec, 64);
};

try {
  const speed = await run("static-minmax-512", { mode: "static" }, train512);
  console.log(`  target: < ${TARGET_S} s for 512 calibration images -> ${speed.wall < TARGET_S ? "met" : "MISSED"}`);
  if (speed.wall >= TARGET_S) failed = true;
  await run("static-minmax-png256", { mode: "static" });
  if (withAccuracy) {
    const evaluate = { evaluate: DATA };
    const s = await run("static-minmax-512+eval", { mode: "static", ...evaluate }, train512);
    const p = await run("static-percentile-512+eval", { mode: "static", method: "percentile", ...evaluate }, train512);
    const d = await run("dynamic+eval", { mode: "dynamic", ...evaluate });
    await run("int4-weight-only", { bits: 4 });
    const drop = (r: typeof s) => r.report.accuracy!.before - r.report.accuracy!.after;
    const checks: [string, boolean][] = [
      ["static file <= 30% of fp32", s.file <= 0.3 * s.fp32],
      ["static (minmax) drop <= 1.0 point", drop(s) <= 0.01],
      ["static (percentile) drop <= 1.0 point", drop(p) <= 0.01],
      ["dynamic drop <= 2.0 points", drop(d) <= 0.02],
    ];
    for (const [what, ok] of checks) {
      console.log(`  ${ok ? "met   " : "MISSED"} ${what}`);
      if (!ok) failed = true;
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
