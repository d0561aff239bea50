/**
 * The weights as `model.to(device, dtype)` allocates them, checked against the ground truth: for every fixture
 * and dtype, the caching allocator holds exactly what the H200 run measured after loading (`weights_alloc`),
 * unsplit remainders included, which only comes out right when the parameters arrive in Module._apply's order.
 * The dynamo exports store some parameters as constants of their own (folded or shared): within 0.5% there
 * (0.23% at most today).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelFile } from "../../formats/load-node.js";
import { analyzeModel } from "../../analyze.js";
import { CachingAllocator } from "./caching-allocator.js";
import { eagerProgram } from "./eager.js";
import { FIXTURES, H200_GROUND_TRUTH, type GpuRun as Run } from "../../../bench/shared.js";

const GT = H200_GROUND_TRUTH;

test("simulated weight loading holds what the H200 measured after model.to(): to the byte from the TorchScript exports", async () => {
  const gt = JSON.parse(readFileSync(GT, "utf8")) as { runs: Run[] };
  const cases = new Map<string, number>();
  for (const r of gt.runs) {
    if (r.mode === "inference" && !r.tag && r.seq === undefined && r.weights_alloc !== undefined) cases.set(`${r.model} ${r.dtype}`, r.weights_alloc);
  }
  const off: string[] = [];
  for (const kind of ["onnx-legacy", "onnx-dynamo"]) {
    for (const [key, measured] of cases) {
      const [name, dtype] = key.split(" ") as [string, string];
      const file = join(FIXTURES, kind, `${name}.onnx`);
      const model = (await loadModelFile(file)).model;
      const half = dtype === "float16";
      const inference = analyzeModel(model, { batch: 1, dtype: half ? "fp16" : "fp32" }).inference;
      const weights = eagerProgram(model, inference, half ? { dtype: "float16" } : {}).weights;
      const a = new CachingAllocator();
      a.malloc(32 << 20); // the cuBLAS workspace the measuring process already held
      const before = a.snapshot().allocated;
      for (const w of weights) a.malloc(w);
      const held = a.snapshot().allocated - before;
      const exact = kind === "onnx-legacy";
      if (exact ? held !== measured : Math.abs(held - measured) > 5e-3 * measured) off.push(`${kind} ${key}: ${held} vs ${measured}`);
    }
  }
  assert.ok(cases.size >= 14);
  assert.deepEqual(off, []);
});
