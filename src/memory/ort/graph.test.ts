/**
 * The modelled ORT graph against the one onnxruntime-node really builds (ORT_ENABLE_ALL, written with
 * writeOptimizedModel) for the bundled model, which carries its weights: same nodes by op type, fused
 * activation and Sum input, hence the same tensors for the planner.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel } from "../../analyze.js";
import { loadModelFile } from "../../formats/load-node.js";
import { buildOrtGraph } from "./graph.js";
import { modelledHistogram, realHistogram } from "./compare.js";
import { kernelScratchBytes } from "./scratch.js";
import { LEGACY_FIXTURES } from "../../../bench/shared.js";
import { hostCpu } from "../cpu.js";
import { ORT_CPU_TRAITS } from "./cpu-traits.js";
import { tempDir } from "../../../test/temp.js";

const MODEL = join(process.cwd(), "models", "fashion-mobilenetv2", "model.onnx");
const VIT = join(LEGACY_FIXTURES, "vit_b_16.onnx");

test("fashion-mobilenetv2: modelled ORT CPU graph matches onnxruntime's optimized graph op for op, with this machine's NCHWc block", async () => {
  const { writeOptimizedModel } = await import("../../runtime/ort.js");
  const dir = tempDir("ortgraph");
  try {
    const out = join(dir, "optimized.onnx");
    await writeOptimizedModel(MODEL, out, "all");
    const real = loadModelFile(out);
    const mine = loadModelFile(MODEL);
    try {
      const a = analyzeModel(mine.model, { batch: 4, openExternal: mine.openExternal });
      // onnxruntime optimized it on this machine: model the NCHWc block of this machine's CPU.
      const g = buildOrtGraph(mine.model, a.inference, a.bindings, { nchwcBlock: ORT_CPU_TRAITS[hostCpu().isa].nchwcBlock });
      assert.deepEqual(modelledHistogram(g), realHistogram(real.model.graph));
    } finally {
      real.source.close();
      mine.source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("vit_b_16: BiasGelu reads the MatMul output first and the bias second, as ORT's fused node does (its scratch is sized by input 0)", () => {
  const { model, openExternal, source } = loadModelFile(VIT);
  try {
    const a = analyzeModel(model, { batch: 2, openExternal });
    const g = buildOrtGraph(model, a.inference, a.bindings, { nchwcBlock: 8 });
    const gelus = g.nodes.filter((n) => n.op === "ms.BiasGelu");
    assert.equal(gelus.length, 12);
    for (const n of gelus) {
      assert.ok(!g.constants.has(n.inputs[0]!) && g.constants.has(n.inputs[1]!), `${n.name}: ${n.inputs.join(", ")}`);
      assert.equal(kernelScratchBytes(n, g.tensors), 2 * 197 * 3072 * 4);
    }
  } finally {
    source.close();
  }
});

test("vit_b_16: ORT's level-1 cleanups leave one Shape per tensor, one Unsqueeze per (value, axes), no multiply by one", () => {
  const { model, openExternal, source } = loadModelFile(VIT);
  try {
    const a = analyzeModel(model, { batch: 2, openExternal });
    const g = buildOrtGraph(model, a.inference, a.bindings, { nchwcBlock: 8 });
    const shapesOf = new Map<string, number>();
    for (const n of g.nodes.filter((n) => n.op === "Shape")) shapesOf.set(n.inputs[0]!, (shapesOf.get(n.inputs[0]!) ?? 0) + 1);
    assert.ok([...shapesOf.values()].every((c) => c === 1), "a tensor read by two Shape nodes");
    // Real ORT 1.30 graph: 61 Shape, 48 Mul (bench/ORT-ACCURACY.md). One Shape reads a tensor whose dims ORT knows as
    // values and is folded; the head's Reshape fusion is not modelled (+1 Shape, +1 Mul).
    assert.equal(shapesOf.size, 62);
    const unsqueezes = g.nodes.filter((n) => n.op === "Unsqueeze").map((n) => `${n.inputs[0]}|${JSON.stringify(a.inference.values.get(n.inputs[1]!)?.value)}`);
    assert.equal(new Set(unsqueezes).size, unsqueezes.length);
    assert.equal(g.nodes.filter((n) => n.op === "Mul").length, 49);
  } finally {
    source.close();
  }
});
