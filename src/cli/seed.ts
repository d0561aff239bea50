/**
 * `memlens` with no arguments: the seed's three examples on the bundled model (a 9 MB MobileNetV2 on 3 kB
 * Fashion-MNIST images), each one library call, all real:
 *   1. predict the ten samples, one image and one batch, and list the layers' activation sizes;
 *   2. profile that batch (onnxruntime's profiler) beside the static prediction, then explain the memory on
 *      pytorch-cuda / h100 at batch 1 and 32: why a 9 MB model needs far more than 9 MB;
 *   3. quantize to int8 in a temporary folder and predict the samples again with the quantized model.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { quantize } from "../quantize/model.js";
import { bytes, shape } from "../report/format.js";
import { renderExplanation } from "../report/explain.js";
import { loadImage } from "../runtime/image.js";
import { MemlensModel, type Prediction } from "../runtime/model.js";
import { profile } from "../runtime/profile.js";
import { renderPredictions } from "./predict.js";
import { printOut } from "./print.js";

/** The repository (or installed package) root: dist/src/cli -> ../../.. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BUNDLED_DIR = join(PACKAGE_ROOT, "models", "fashion-mobilenetv2");
export const BUNDLED_MODEL = join(BUNDLED_DIR, "model.onnx");
export const SAMPLES_DIR = join(BUNDLED_DIR, "samples");

/** Rows of the short tables: enough to see the pattern, few enough to read. */
const TOP = 5;

export async function runSeedScenario(): Promise<void> {
  const out = (s: string) => printOut(s);
  const model = MemlensModel.load(BUNDLED_MODEL);
  const work = mkdtempSync(join(tmpdir(), "memlens-seed-"));
  try {
    const files = readdirSync(SAMPLES_DIR).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();
    const images = await Promise.all(files.map((f) => loadImage(join(SAMPLES_DIR, f), { model })));
    const first = images[0]!;
    const s = model.summary;
    out(`memlens: the seed's three examples on the bundled model (${s.file}: MobileNetV2 trained on Fashion-MNIST, ${bytes(s.weightBytes)} of weights, ${s.parameters.toLocaleString("en-US")} parameters)\n`);

    out(`\n== Example 1: predict ${images.length} sample images of ${first.width}x${first.height}x${first.channels} (${first.data.length.toLocaleString("en-US")} bytes each) on onnxruntime\n`);
    const one = await model.predict(images[3]!, { top: 1 });
    out(`model.predict(image): ${one.file} -> ${one.top[0]?.label} ${((one.top[0]?.score ?? 0) * 100).toFixed(1)}%\n`);
    const predictions = await model.predict(images, { top: 1 });
    out(renderPredictions(predictions, `model.predict([${images.length} images]), one batch:`));
    out(`  ${correct(predictions)} of ${predictions.length} correct\n`);
    out(layersTable(model, 32));

    out(`\n== Example 2: profile(() => model.predict(batch)): measured by onnxruntime's profiler, beside the prediction\n`);
    const measured = await profile(() => model.predict(images, { top: 1 }));
    const compared = measured.layers.filter((l) => l.measured && l.predicted);
    out(`${compared.length} layers measured, ${measured.disagreements} disagree with the predicted output sizes; peak RSS ${bytes(measured.peakRss)} (+${bytes(measured.peakRss - measured.rss.before)} during the run)\n`);
    const largest = [...compared].sort((a, b) => (b.measured!.outputBytes - a.measured!.outputBytes)).slice(0, TOP);
    const w = Math.max(...largest.map((l) => l.name.length));
    out(`  ${"largest outputs".padEnd(w)}  ${"measured".padStart(10)}  ${"predicted".padStart(10)}\n`);
    for (const l of largest) out(`  ${l.name.padEnd(w)}  ${bytes(l.measured!.outputBytes).padStart(10)}  ${bytes(l.predicted!.outputBytes).padStart(10)}\n`);
    for (const batch of [1, 32]) {
      const report = model.memory({ batch, runtime: "pytorch-cuda", device: "h100" });
      out(`\n== model.memory({ batch: ${batch}, runtime: "${report.settings.runtime}", device: "${report.settings.device}" }): why the process needs more than the weights\n`);
      out(renderExplanation(report));
    }

    out(`\n== Example 3: quantize(model, { bits: 8 }), saved in a temporary folder, then the samples again\n`);
    const q = await quantize(model, { bits: 8, batch: images.length });
    try {
      const saved = q.save(join(work, q.summary.file));
      const again = await q.predict(images, { top: 1 });
      const agree = again.filter((p, i) => p.top[0]?.index === predictions[i]?.top[0]?.index).length;
      const r = q.report;
      const rows: [string, string, string][] = [
        ["file", bytes(model.fileBytes), `${bytes(saved)} (${pct(saved, model.fileBytes)})`],
        ["weights", bytes(r.weightBytes.before), `${bytes(r.weightBytes.after)} (${pct(r.weightBytes.after, r.weightBytes.before)})`],
        [`memory, ${r.memory.runtime} batch ${r.memory.batch}`, bytes(r.memory.before), `${bytes(r.memory.after)} (${pct(r.memory.after, r.memory.before)}, predicted)`],
        ["samples correct", `${correct(predictions)} of ${predictions.length}`, `${correct(again)} of ${again.length} (${agree} the same class as fp32)`],
      ];
      out(`int8 ${r.mode}${r.method ? ` (${r.method} calibration on ${r.calibrationImages} images)` : ""}: ${r.nodes.quantized} layers quantized in ${(r.seconds.calibrate + r.seconds.quantize).toFixed(1)} s\n`);
      const lw = Math.max(...rows.map((x) => x[0].length));
      out(`  ${"".padEnd(lw)}  ${"fp32".padStart(10)}  int8\n`);
      for (const [name, before, after] of rows) out(`  ${name.padEnd(lw)}  ${before.padStart(10)}  ${after}\n`);
      for (const warning of r.warnings) out(`  warning: ${warning}\n`);
    } finally {
      await q.close();
    }
  } finally {
    await model.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Sample files are named CLASS_label.png: the leading number is the true class. */
function correct(predictions: readonly Prediction[]): number {
  return predictions.filter((p) => p.top[0]?.index === Number(p.file.split("_")[0])).length;
}

function pct(a: number | null | undefined, b: number | null | undefined): string {
  return a && b ? `${((100 * a) / b).toFixed(0)}%` : "n/a";
}

/** Example 1's loop over model.layers: the layers with the largest activations at this batch. */
function layersTable(model: MemlensModel, batch: number): string {
  const rows = model.layers.map((l) => ({ l, size: l.activationSize({ batch }) ?? 0 }));
  const top = [...rows].sort((a, b) => b.size - a.size).slice(0, TOP);
  const w = Math.max(...top.map((r) => r.l.name.length));
  const constants = rows.filter((r) => r.l.op === "Constant").length;
  const lines = [`for (const layer of model.layers): ${rows.length - constants} layers (and ${constants} Constant nodes); the ${TOP} largest activations at batch ${batch}:`];
  lines.push(`  ${"layer".padEnd(w)}  ${"op".padEnd(6)} ${"output shape".padEnd(18)} ${"activation".padStart(10)}`);
  for (const { l, size } of top) {
    const shapes = l.outputShapes({ batch }).map((s) => (s ? shape(s) : "?")).join(" ");
    lines.push(`  ${l.name.padEnd(w)}  ${l.op.padEnd(6)} ${shapes.padEnd(18)} ${bytes(size).padStart(10)}`);
  }
  return lines.join("\n") + "\n";
}
