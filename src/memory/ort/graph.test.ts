/**
 * The modelled ORT graph against the one onnxruntime-node really builds (ORT_ENABLE_ALL, written with
 * writeOptimizedModel) for the bundled model, which carries its weights: same nodes by op type, fused
 * activation and Sum input, hence the same tensors for the planner.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeModel } from "../../analyze.js";
import { loadModelFile } from "../../formats/load-node.js";
import { buildOrtGraph } from "./graph.js";
import { modelledHistogram, realHistogram } from "./compare.js";

const MODEL = join(process.cwd(), "models", "fashion-mobilenetv2", "model.onnx");

test("fashion-mobilenetv2: modelled ORT CPU graph matches onnxruntime's optimized graph op for op", async () => {
  const { writeOptimizedModel } = await import("../../runtime/ort.js");
  const dir = mkdtempSync(join(tmpdir(), "memlens-ortgraph-"));
  try {
    const out = join(dir, "optimized.onnx");
    await writeOptimizedModel(MODEL, out, "all");
    const real = loadModelFile(out);
    const mine = loadModelFile(MODEL);
    try {
      const a = analyzeModel(mine.model, { batch: 4, openExternal: mine.openExternal });
      const g = buildOrtGraph(mine.model, a.inference, a.bindings, { nchwcBlock: 8 });
      assert.deepEqual(modelledHistogram(g), realHistogram(real.model.graph));
    } finally {
      real.source.close();
      mine.source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
