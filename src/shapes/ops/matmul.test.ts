import { test } from "node:test";
import assert from "node:assert/strict";
import { dimToString } from "../../sym/expr.js";
import { infer, inferOp, type AttrSpec, type ShapeSpec } from "../testing.js";

const f32 = (shape: ShapeSpec) => ({ dtype: "float32" as const, shape });

/** [a, b, expected output] for numpy.matmul semantics. */
const MATMUL: [ShapeSpec, ShapeSpec, string][] = [
  [[3, 4], [4, 5], "[3,5]"],
  [[4], [4, 5], "[5]"],
  [[3, 4], [4], "[3]"],
  [[4], [4], "[]"],
  [["B", "S", 768], [768, 3072], "[B,S,3072]"],
  [["B", 12, "S", 64], ["B", 12, 64, "S"], "[B,12,S,S]"],
  [[2, 1, 3, 4], [5, 4, 6], "[2,5,3,6]"],
  [[7], [2, 7, 3], "[2,3]"],
  [[2, 3, 7], [7], "[2,3]"],
];

for (const [a, b, want] of MATMUL) {
  test(`MatMul [${a}] x [${b}] -> ${want}`, () => {
    const r = inferOp("MatMul", [f32(a), f32(b)]);
    assert.deepEqual(r.shapes, [want], r.warnings.join("; "));
  });
}

test("MatMul: mismatched inner dims are an error", () => {
  const r = inferOp("MatMul", [f32([3, 4]), f32([5, 6])]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /inner dims 4 and 5/);
});

const GEMM: [ShapeSpec, ShapeSpec, Record<string, AttrSpec>, string][] = [
  [["N", 512], [512, 1000], {}, "[N,1000]"],
  [["N", 512], [1000, 512], { transB: 1 }, "[N,1000]"],
  [[512, "N"], [512, 1000], { transA: 1 }, "[N,1000]"],
];

for (const [a, b, attrs, want] of GEMM) {
  test(`Gemm [${a}] x [${b}] ${JSON.stringify(attrs)} -> ${want}`, () => {
    const r = inferOp("Gemm", [f32(a), f32(b), f32([1000])], attrs);
    assert.deepEqual(r.shapes, [want], r.warnings.join("; "));
  });
}

test("Gemm: C must broadcast to [M, N]", () => {
  assert.deepEqual(inferOp("Gemm", [f32([4, 3]), f32([5, 4])], { transA: 1, transB: 1 }).shapes, ["[3,5]"]);
  const r = inferOp("Gemm", [f32([2, 3]), f32([3, 5]), f32([4])]);
  assert.equal(r.out[0]?.shape, undefined);
  assert.match(r.warnings.join("\n"), /broadcast/);
});

const EINSUM: [string, ShapeSpec[], string][] = [
  ["ij,jk->ik", [[2, 3], [3, 4]], "[2,4]"],
  ["ij,jk", [[2, 3], [3, 4]], "[2,4]"], // implicit output: labels seen once, alphabetical
  ["ba,bc", [[3, 2], [3, 4]], "[2,4]"],
  ["ii->i", [[5, 5]], "[5]"], // diagonal
  ["ii", [[5, 5]], "[]"], // trace: the repeated label is summed in implicit mode
  ["ij->", [[2, 3]], "[]"],
  ["ij->ji", [[2, 3]], "[3,2]"],
  ["bij,bjk->bik", [["B", 2, 3], ["B", 3, 4]], "[B,2,4]"],
  ["...ij,...jk->...ik", [[7, 2, 3], [1, 3, 4]], "[7,2,4]"],
  ["...ii->...i", [["N", 3, 3]], "[N,3]"],
  ["b...,b...", [[2, 3, 4], [2, 3, 4]], "[3,4]"], // implicit with ellipsis: ellipsis dims first
  ["i,j->ij", [[3], [4]], "[3,4]"],
  ["bhqd,bhkd->bhqk", [["B", 12, "S", 64], ["B", 12, "S", 64]], "[B,12,S,S]"],
];

for (const [eq, shapes, want] of EINSUM) {
  test(`Einsum '${eq}' -> ${want}`, () => {
    const r = inferOp("Einsum", shapes.map(f32), { equation: eq });
    assert.deepEqual(r.shapes, [want], r.warnings.join("; "));
  });
}

test("Einsum: operand count and rank are checked against the equation", () => {
  assert.match(inferOp("Einsum", [f32([2, 3])], { equation: "ij,jk->ik" }).warnings.join("\n"), /2 operands/);
  assert.match(inferOp("Einsum", [f32([2, 3, 4])], { equation: "ij->i" }).warnings.join("\n"), /rank 3/);
  assert.match(inferOp("Einsum", [f32([2, 3]), f32([4, 5])], { equation: "ij,jk->ik" }).warnings.join("\n"), /label 'j'/);
});

function flops(op: string, shapes: ShapeSpec[], attrs: Record<string, AttrSpec> = {}): string {
  const names = shapes.map((_, i) => `x${i}`);
  const r = infer({
    inputs: Object.fromEntries(names.map((n, i) => [n, f32(shapes[i]!)])),
    nodes: [{ op, inputs: names, outputs: ["y"], attrs }],
    outputs: ["y"],
  });
  return dimToString(r.nodes[0]!.flops!);
}

test("FLOPs: 2*M*N*K*batch for MatMul, Gemm and two-operand Einsum", () => {
  assert.equal(flops("MatMul", [["B", 128, 768], [768, 3072]]), `${2 * 128 * 768 * 3072}*B`);
  assert.equal(flops("MatMul", [[4, 2, 3], [3, 5]]), String(2 * 4 * 2 * 3 * 5));
  assert.equal(flops("Gemm", [[8, 512], [1000, 512]], { transB: 1 }), String(2 * 8 * 512 * 1000));
  assert.equal(flops("Einsum", [[2, 3], [3, 4]], { equation: "ij,jk->ik" }), String(2 * 2 * 3 * 4));
});
