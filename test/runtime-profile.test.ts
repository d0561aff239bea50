/**
 * Profile vs prediction: onnxruntime's measured per-layer output sizes against the static prediction,
 * on the fashion model (real weights) and on the 7 legacy fixtures with random weights at batch 4.
 * Every layer must agree; a failure lists each disagreeing layer and why.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadImage, loadModel, profile, type ProfileResult } from "../src/index.js";
import { BUNDLED_MODEL, PACKAGE_ROOT, SAMPLES_DIR } from "../src/cli/seed.js";
import { LEGACY_FIXTURES } from "../bench/shared.js";

const LEGACY = LEGACY_FIXTURES;
const FIXTURES = ["resnet18", "mobilenet_v2", "efficientnet_b0", "densenet121", "resnet50", "vgg16", "vit_b_16"];

function explain(r: ProfileResult<unknown>): string {
  return r.layers.filter((l) => !l.agree).slice(0, 20).map((l) => `${l.name} (${l.op}): ${l.reason}`).join("\n");
}

test("profile(() => model.predict(batch)) on the fashion model: every layer measured = predicted, peak RSS sampled", async () => {
  const model = await loadModel(BUNDLED_MODEL);
  try {
    const image = await loadImage(join(SAMPLES_DIR, "3_dress.png"));
    const r = await profile(() => model.predict([image, image, image, image]));
    assert.equal(r.value[0]!.top[0]!.label !== undefined, true);
    assert.equal(r.runs.length, 1);
    assert.deepEqual(r.runs[0]!.inputShapes, { input: [4, 3, 32, 32] });
    const measured = r.layers.filter((l) => l.measured);
    assert.ok(measured.length >= 90, `${measured.length} layers measured`);
    assert.equal(r.disagreements, 0, explain(r));
    const conv = r.layers.find((l) => l.op === "Conv")!;
    assert.equal(conv.measured!.outputBytes, 4 * 32 * 16 * 16 * 4);
    assert.ok(r.peakRss >= r.rss.before && r.rss.samples > 0);
    // onnxruntime-node 1.30's profile carries its arena counters; the activations must fit in what it held.
    const arena = r.runs[0]!.arena!;
    assert.ok(arena.inUsePeakBytes > 0 && arena.heldBytes >= arena.inUsePeakBytes, JSON.stringify(arena));
  } finally {
    await model.close();
  }
});

test("profile --json on a fixture with --random-weights: the contract, and a mismatch would be counted", () => {
  const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, "bin", "memlens.js"), "profile", join(LEGACY, "resnet18.onnx"),
    "--random-weights", "--batch", "2", "--json"], { encoding: "utf8", maxBuffer: 64 << 20 });
  const json = JSON.parse(out) as { layers: { name: string; op: string; measured: { outputBytes: number; ms: number } | null; predicted: { outputBytes: number | null } | null }[]; peakRss: number; disagreements: number };
  assert.ok(json.peakRss > 0);
  const counted = json.layers.filter((l) => l.measured && l.predicted && l.measured.outputBytes !== l.predicted.outputBytes).length;
  assert.equal(json.disagreements, counted);
  assert.equal(json.disagreements, 0);
  const fc = json.layers.find((l) => l.op === "Gemm")!;
  assert.equal(fc.measured!.outputBytes, 2 * 1000 * 4);
});

const PIXEL_SHUFFLE = "/usr/share/libonnx-testdata/data/pytorch-converted/test_PixelShuffle/model.onnx";

test("unnamed nodes are matched the way onnxruntime names them (<Op>_<index>, Constants not counted)", { skip: existsSync(PIXEL_SHUFFLE) ? false : "libonnx-testdata not installed" }, async () => {
  const model = await loadModel(PIXEL_SHUFFLE);
  try {
    assert.ok(model.graph.graph.nodes.some((n) => n.name === "" && n.opType === "Constant"));
    const input = model.inputs[0]!;
    const dims = input.shape as number[];
    const r = await profile(() => model.run({ [input.name]: { type: "float32", dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) } }));
    assert.equal(r.disagreements, 0, explain(r));
    assert.deepEqual(r.layers.filter((l) => l.measured).map((l) => l.name), ["Reshape_0", "Transpose_1", "Reshape_2"]);
  } finally {
    await model.close();
  }
});

for (const name of FIXTURES) {
  test(`profile with random weights, ${name} at batch 4: every layer's measured output size = prediction`, async () => {
    const model = await loadModel(join(LEGACY, `${name}.onnx`), { randomWeights: true });
    try {
      const input = { type: "float32" as const, dims: [4, 3, 224, 224], data: new Float32Array(4 * 3 * 224 * 224).fill(0.5) };
      const r = await profile(() => model.run({ input }));
      assert.ok(r.layers.filter((l) => l.measured).length > 10);
      assert.equal(r.disagreements, 0, explain(r));
    } finally {
      await model.close();
    }
  });
}
