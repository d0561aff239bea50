import assert from "node:assert/strict";
import { test } from "node:test";
import { loadModel } from "../src/index.js";
import { BUNDLED_MODEL } from "../src/cli/seed.js";
import { readFashionMnist } from "./fashion-data.js";

const BATCH = 500;

test("Fashion-MNIST test set (10,000 images), batched predict: accuracy >= model.json's test_accuracy_fp32 - 0.005", async () => {
  const model = await loadModel(BUNDLED_MODEL);
  try {
    const { images, labels } = readFashionMnist("t10k");
    assert.equal(images.length, 10000);
    let correct = 0;
    for (let i = 0; i < images.length; i += BATCH) {
      const preds = await model.predict(images.slice(i, i + BATCH), { top: 1 });
      preds.forEach((p, k) => {
        if (p.top[0]!.index === labels[i + k]) correct++;
      });
    }
    const accuracy = correct / images.length;
    const expected = model.sidecar!.testAccuracy!;
    console.log(`fashion-mnist test accuracy ${accuracy.toFixed(4)} (model.json: ${expected})`);
    assert.ok(accuracy >= expected - 0.005, `accuracy ${accuracy} < ${expected} - 0.005`);
  } finally {
    await model.close();
  }
});
