/**
 * Agreement on the shared fixtures, as the acceptance checks it: every intermediate of the 9 onnx-dynamo
 * models has the exporter's value_info shape (symbolic batch and seq), and every node of the 7 onnx-legacy
 * models has onnxruntime's output shapes and bytes at batch 1 and 4. Mismatches are listed in the failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DYNAMO, LEGACY, exporterAgreement, ortAgreement, type Mismatch } from "../bench/agreement-lib.js";

function show(ms: Mismatch[]): string {
  return ms
    .slice(0, 20)
    .map((m) => `${m.model} ${m.node}: ${m.detail}`)
    .join("\n");
}

test("exporter agreement: inferred shapes equal value_info on every onnx-dynamo fixture", () => {
  assert.equal(DYNAMO.length, 9);
  for (const name of DYNAMO) {
    const { compared, mismatches } = exporterAgreement(name);
    assert.ok(compared > 0, `${name}: nothing compared`);
    assert.equal(mismatches.length, 0, `${name}: ${mismatches.length} of ${compared} differ\n${show(mismatches)}`);
  }
});

test("ORT agreement: output shapes and bytes equal onnxruntime's on every onnx-legacy fixture at batch 1 and 4", () => {
  assert.equal(LEGACY.length, 7);
  for (const name of LEGACY) {
    for (const batch of [1, 4]) {
      const { compared, mismatches } = ortAgreement(name, batch);
      assert.ok(compared > 0, `${name} batch ${batch}: nothing compared`);
      assert.equal(mismatches.length, 0, `${name} batch ${batch}: ${mismatches.length} of ${compared} differ\n${show(mismatches)}`);
    }
  }
});
