import { test } from "node:test";
import assert from "node:assert/strict";
import { elementCount } from "./element-count.js";

test("elementCount multiplies the dims: a scalar holds one element, a zero dim none", () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([2, 3, 4]), 24);
  assert.equal(elementCount([8, 0, 16]), 0);
  assert.equal(elementCount([1, 50257]), 50257);
});
