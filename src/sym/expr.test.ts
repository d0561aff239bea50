import { test } from "node:test";
import assert from "node:assert/strict";
import { add, ceilDiv, dimToString, equal, evaluate, floorDiv, max, mod, mul, parseDim, sub, sym } from "./expr.js";

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
