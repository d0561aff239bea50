/**
 * `memlens` with no arguments: the seed's scenario on the bundled model (a 9 MB MobileNetV2 on a 3 kB
 * Fashion-MNIST image). It predicts the ten sample images for real (onnxruntime), then shows the memory
 * report at batch 1 and 32 on pytorch-cuda / h100: why a 9 MB model needs far more than 9 MB.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytes } from "../report/format.js";
import { renderExplanation } from "../report/explain.js";
import { loadImage } from "../runtime/image.js";
import { MemlensModel } from "../runtime/model.js";
import { renderPredictions } from "./predict.js";

/** The repository (or installed package) root: dist/src/cli -> ../../.. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BUNDLED_DIR = join(PACKAGE_ROOT, "models", "fashion-mobilenetv2");
export const BUNDLED_MODEL = join(BUNDLED_DIR, "model.onnx");
export const SAMPLES_DIR = join(BUNDLED_DIR, "samples");

export async function runSeedScenario(): Promise<void> {
  const model = MemlensModel.load(BUNDLED_MODEL);
  const out = (s: string) => process.stdout.write(s);
  try {
    const files = readdirSync(SAMPLES_DIR).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();
    const images = await Promise.all(files.map((f) => loadImage(join(SAMPLES_DIR, f), { model })));
    const predictions = await model.predict(images, { top: 1 });
    // Sample files are named CLASS_label.png: the leading number is the true class.
    const correct = predictions.filter((p) => p.top[0]?.index === Number(p.file.split("_")[0])).length;
    out(`memlens: the seed's scenario on the bundled model (${model.summary.file}, ${bytes(model.summary.weightBytes)} of weights, ${model.summary.parameters.toLocaleString("en-US")} parameters)\n\n`);
    out(renderPredictions(predictions, `predict: ${images.length} sample images of ${images[0]?.width}x${images[0]?.height}x${images[0]?.channels} (${(images[0]?.data.length ?? 0).toLocaleString("en-US")} bytes each), one batch on onnxruntime`));
    out(`  ${correct} of ${predictions.length} correct\n`);
    for (const batch of [1, 32]) {
      const report = model.memory({ batch, runtime: "pytorch-cuda", device: "h100" });
      out(`\n== memory at batch ${batch}, ${report.settings.runtime} on ${report.settings.device}\n`);
      out(renderExplanation(report));
    }
  } finally {
    await model.close();
  }
}
