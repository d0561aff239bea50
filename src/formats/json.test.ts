import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelFormatError } from "../errors.js";
import { MAX_JSON_DEPTH, parseJson } from "./json.js";

const refused = (text: string, why: RegExp) => assert.throws(() => parseJson(text, "config.json"), (e) => e instanceof ModelFormatError && why.test(e.message), text);

test("JSON without repeats parses as JSON.parse does", () => {
  const text = '{"a": 1, "b": {"a": 2, "c": [{"a": 3}, {"a": 4}]}, "s": "x,\\"a\\": {"}';
  assert.deepEqual(parseJson(text, "x"), JSON.parse(text));
  assert.deepEqual(parseJson("[1, 2, {\"k\": []}]", "x"), [1, 2, { k: [] }]);
});

test("a key repeated in one object is refused, escapes compared after unescaping", () => {
  refused('{"num_hidden_layers": 2, "num_hidden_layers": 100000}', /key "num_hidden_layers" appears twice/);
  refused('{"a": 1, "\\u0061": 2}', /key "a" appears twice/);
  refused('{"x": {"k": 1, "y": [1, {"k": 2}], "k": 3}}', /key "k" appears twice/);
});

test("nesting past the limit is refused before JSON.parse recurses; broken JSON says why", () => {
  refused("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1), /nested deeper than 64/);
  assert.deepEqual(parseJson("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH), "x"), JSON.parse("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH)));
  refused('{"a": ', /config\.json: not JSON/);
});
