import { test } from "node:test";
import assert from "node:assert/strict";
import { inferOp } from "../testing.js";

test("StringNormalizer without stopwords keeps the shape; with stopwords the length is a bounded symbol", () => {
  assert.deepEqual(inferOp("StringNormalizer", [{ dtype: "string", shape: [1, 4] }], { case_change_action: "LOWER" }).shapes, ["[1,4]"]);
  const r = inferOp("StringNormalizer", [{ dtype: "string", shape: [4] }], { stopwords: ["monday"] });
  const d = r.out[0]?.shape?.[0];
  assert.equal(typeof d, "object");
  assert.match(r.warnings.join("\n"), /bounded by 4/);
});

test("TfIdfVectorizer: last dim is max(ngram_indexes)+1, float output", () => {
  const attrs = { ngram_indexes: [0, 1, 2, 3, 4, 5, 6], max_gram_length: 2, min_gram_length: 2, mode: "TF" };
  const r = inferOp("TfIdfVectorizer", [{ dtype: "int32", shape: ["n", 6] }], attrs);
  assert.deepEqual([r.shapes[0], r.out[0]?.dtype], ["[n,7]", "float32"]);
  assert.deepEqual(inferOp("TfIdfVectorizer", [{ dtype: "int64", shape: [12] }], { ngram_indexes: [0, 2] }).shapes, ["[3]"]);
});

test("StringSplit: a substring dim bounded by maxsplit+1; RegexFullMatch is bool", () => {
  const r = inferOp("StringSplit", [{ dtype: "string", shape: [2, 3] }], { maxsplit: 2 }, { outputs: 2, opset: 20 });
  assert.equal(r.out[0]?.shape?.length, 3);
  assert.equal(r.shapes[1], "[2,3]");
  assert.match(r.warnings.join("\n"), /at most 3/);
  assert.equal(inferOp("RegexFullMatch", [{ dtype: "string", shape: [5] }], { pattern: "a+" }, { opset: 20 }).out[0]?.dtype, "bool");
});

test("LabelEncoder (ai.onnx.ml): output type from the values attribute", () => {
  const r = inferOp("LabelEncoder", [{ dtype: "string", shape: [3] }], { keys_strings: ["a", "b"], values_int64s: [1, 2] }, { domain: "ai.onnx.ml" });
  assert.deepEqual([r.shapes[0], r.out[0]?.dtype], ["[3]", "int64"]);
});
