/**
 * `memlens` with no arguments: the seed's scenario on the bundled model (a 9 MB MobileNetV2 on a 3 kB
 * Fashion-MNIST image). Grows with the runtime and memory issues; today it prints the per-layer analysis.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyzeModel } from "../analyze.js";
import { loadModelFile } from "../formats/load-node.js";
import { renderLayers } from "../report/layers-table.js";

/** The repository (or installed package) root: dist/src/cli -> ../../.. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BUNDLED_MODEL = join(PACKAGE_ROOT, "models", "fashion-mobilenetv2", "model.onnx");

export async function runSeedScenario(): Promise<void> {
  const loaded = loadModelFile(BUNDLED_MODEL);
  for (const batch of [1, 32]) {
    const { report } = analyzeModel(loaded.model, { batch });
    process.stdout.write(`\n== ${report.model.file}, batch ${batch}\n`);
    process.stdout.write(renderLayers(report));
  }
}
