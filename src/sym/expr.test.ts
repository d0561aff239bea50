import { test } from "node:test";
import assert from "node:assert/strict";
import { add, ceilDiv, compare, dimToString, equal, evaluate, floorDiv, lowerBound, max, min, mod, mul, sub, sym } from "./expr.js";
import { parseDim } from "./parse.js";

const batch = sym("batch");
const seq = sym("seq");

test("polynomials are canonical: seq*batch equals batch*seq", () => {
  assert.ok(equal(mul(seq, batch), mul(batch, seq)));
  assert.equal(dimToString(parseDim("seq*batch")), dimToString(mul(batch, seq)));
  assert.equal(dimToString(add(mul(2, seq), 1)), "2*seq + 1");
});

test("constants collapse to numbers", () => {
  assert.equal(sub(add(seq, 3), seq), 3);
  assert.equal(mul(batch, 0), 0);
  assert.equal(floorDiv(7, 2), 3);
  assert.equal(ceilDiv(7, 2), 4);
});

test("exact division simplifies; inexact division stays a floor term", () => {
  assert.equal(dimToString(floorDiv(mul(768, seq), 12)), "64*seq");
  assert.equal(dimToString(floorDiv(mul(batch, seq), seq)), "batch");
  assert.equal(dimToString(floorDiv(seq, 2)), "floor(seq/2)");
  assert.equal(mod(mul(4, seq), 2), 0);
});

test("evaluation binds symbols, including inside floor terms", () => {
  assert.equal(evaluate(add(floorDiv(seq, 2), batch), { seq: 9, batch: 4 }), 8);
  assert.equal(dimToString(evaluate(mul(seq, batch), { batch: 2 })), "2*seq");
});

test("max drops 1 against a size and keeps symbols otherwise", () => {
  assert.ok(equal(max(1, seq), seq));
  assert.equal(dimToString(max(seq, batch)), "max(batch,seq)");
});

test("parseDim understands exporter spellings and keeps unknown text as a symbol", () => {
  assert.equal(dimToString(parseDim("(seq//2)")), "floor(seq/2)");
  assert.equal(dimToString(parseDim("2*seq + 1")), "2*seq + 1");
  assert.equal(dimToString(parseDim("Max(1, seq)")), "seq");
  assert.equal(dimToString(parseDim("weird dim!")), "weird dim!");
});

test("min and max decide by provable sign of the difference (symbols are >= 1)", () => {
  assert.ok(equal(min(seq, add(seq, 1)), seq));
  assert.ok(equal(max(0, sub(seq, 1)), sub(seq, 1)));
  assert.equal(dimToString(max(0, sub(seq, 2))), "max(0,seq - 2)");
  assert.ok(equal(min(1, seq), 1));
  assert.equal(dimToString(min(2, seq)), "min(2,seq)");
});

test("lower bounds: constants, positive terms, and floor/max atoms", () => {
  assert.equal(lowerBound(add(mul(3, seq), 2)), 5);
  assert.equal(lowerBound(sub(seq, 1)), 0);
  assert.equal(lowerBound(sub(1, seq)), -Infinity);
  assert.equal(lowerBound(floorDiv(add(seq, 7), 4)), 2);
  assert.equal(lowerBound(mul(batch, seq)), 1);
});

test("exact division by a polynomial of several terms", () => {
  const n = mul(mul(batch, add(seq, 1)), 768); // 768*batch*seq + 768*batch
  assert.equal(dimToString(floorDiv(n, add(seq, 1))), "768*batch");
  assert.equal(dimToString(floorDiv(n, mul(batch, add(seq, 1)))), "768");
  assert.match(dimToString(floorDiv(add(seq, 2), add(seq, 1))), /^floor\(/);
});

test("compare proves signs of symbolic differences, or says it can not", () => {
  assert.equal(compare(seq, -1), 1);
  assert.equal(compare(sub(seq, 1), seq), -1);
  assert.equal(compare(mul(seq, batch), mul(batch, seq)), 0);
  assert.equal(compare(seq, batch), undefined);
  assert.equal(compare(seq, 2), undefined);
  assert.equal(compare(3, 2), 1);
});

test("a floor of a sum prints with brackets: floor((H - 1)/2), never the ambiguous floor(H - 1/2)", () => {
  const H = sym("H");
  assert.equal(dimToString(floorDiv(sub(H, 1), 2)), "floor((H - 1)/2)");
  assert.equal(dimToString(ceilDiv(add(seq, 7), 8)), "ceil((seq + 7)/8)");
  assert.ok(equal(parseDim("((H - 1)//2)"), floorDiv(sub(H, 1), 2)));
});

test("an expression past the size limit becomes a named unknown, counted so callers can warn", async () => {
  const { MAX_EXPRESSION_CHARS, overflowCount, lastOverflowName } = await import("./expr.js");
  const before = overflowCount();
  let p = 1 as ReturnType<typeof sym>;
  const t0 = performance.now();
  for (let k = 0; k < 40; k++) p = mul(p, add(sym(`a${k}`), sym(`b${k}`)));
  assert.ok(performance.now() - t0 < 1000, "40 factors of sums: bounded, not 2^40 terms");
  assert.ok(overflowCount() > before);
  assert.ok(dimToString(p).length <= MAX_EXPRESSION_CHARS);
  assert.match(lastOverflowName(), /^expr_overflow_\d+$/);
  // A dim_param that expands too far is kept whole, as one symbol named by its text.
  const text = Array.from({ length: 32 }, (_, k) => `(x${k}+y${k})`).join("*");
  const d = parseDim(text);
  assert.equal(evaluate(d, { [text]: 7 }), 7);
  // Small expressions are untouched.
  assert.equal(dimToString(mul(add(batch, 1), add(seq, 2))), "2*batch + batch*seq + seq + 2");
});
