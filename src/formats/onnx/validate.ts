/**
 * One pass over what an ONNX file declares, before anything is estimated from it (issue 13): every declared
 * dimension of every graph's inputs, outputs and value_info, and every weight's size (initializers and Constant
 * tensors, whether or not their bytes are present), within the named limits of src/graph/limits.ts,
 * and every value produced by one node only (ONNX graphs are single-assignment; onnxruntime refuses a second
 * producer). A failure is a ModelFormatError naming the value.
 */
import { byteSize } from "../../graph/dtype.js";
import type { Graph, Tensor, ValueInfo } from "../../graph/ir.js";
import { formatLimitBytes, MAX_DECLARED_DIM, MAX_DECLARED_TENSOR_BYTES } from "../../graph/limits.js";
import { type Dim } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { ModelFormatError } from "../../errors.js";
import { quote } from "../quote.js";

let unknownDims = 0;

function checkValue(vi: ValueInfo, role: string, warnings: string[]): void {
  const t = vi.type;
  if ((t.kind !== "tensor" && t.kind !== "sparse") || !t.shape) return;
  const shape = t.shape;
  const shown = () => `[${shape.map((d) => (typeof d === "number" ? String(d) : "?")).join(", ")}]`;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (typeof d !== "number") continue;
    if (d === -1) {
      // Some converters write -1 for "dynamic" where ONNX leaves the dimension without a value: read it so.
      shape[i] = parseDim(`unk__neg${unknownDims++}`) as Dim;
      if (!warnings.some((w) => w.startsWith("a declared dimension -1"))) warnings.push(`a declared dimension -1 (${role} ${quote(vi.name)}) is read as unknown, as its converter meant`);
      continue;
    }
    if (d < 0) throw new ModelFormatError(`${role} ${quote(vi.name)} declares dimension ${d} in ${shown()}: a dimension is a count, at least 0`);
    if (!Number.isSafeInteger(d) || d > MAX_DECLARED_DIM) throw new ModelFormatError(`${role} ${quote(vi.name)} declares dimension ${d} in ${shown()}, over the limit of ${MAX_DECLARED_DIM} (2^31-1)`);
    known *= d;
  }
  if (t.dtype !== undefined && t.dtype !== "string") {
    const bytes = byteSize(t.dtype, known);
    if (bytes > MAX_DECLARED_TENSOR_BYTES) {
      throw new ModelFormatError(`${role} ${quote(vi.name)} declares ${shown()} ${t.dtype}: ${formatLimitBytes(bytes)}, over the limit of ${formatLimitBytes(MAX_DECLARED_TENSOR_BYTES)} for one tensor`);
    }
  }
}

/** A weight (initializer or Constant) of more than the limit is the file's claim, wherever its bytes would be. */
function checkWeight(t: Tensor): void {
  if (t.bytes > MAX_DECLARED_TENSOR_BYTES) {
    throw new ModelFormatError(`tensor ${quote(t.name)} declares [${t.dims.join(", ")}] ${t.dtype}: ${formatLimitBytes(t.bytes)}, over the limit of ${formatLimitBytes(MAX_DECLARED_TENSOR_BYTES)} for one tensor`);
  }
}

function checkGraph(g: Graph, warnings: string[], depth: number): void {
  for (const t of g.initializers.values()) checkWeight(t);
  for (const vi of g.inputs) checkValue(vi, depth === 0 ? "input" : "subgraph input", warnings);
  for (const vi of g.outputs) checkValue(vi, depth === 0 ? "output" : "subgraph output", warnings);
  for (const vi of g.valueInfo.values()) checkValue(vi, "value", warnings);
  const producer = new Map<string, string>();
  for (const vi of g.inputs) if (!g.initializers.has(vi.name)) producer.set(vi.name, `the graph input`);
  for (const [index, n] of g.nodes.entries()) {
    const label = n.name !== "" ? quote(n.name) : `#${index} (${quote(n.opType)})`;
    for (const out of n.outputs) {
      if (out === "") continue;
      const first = producer.get(out);
      if (first !== undefined) {
        throw new ModelFormatError(`value ${quote(out)} is produced by two nodes (${first} and ${label}): an ONNX value has one producer, and onnxruntime refuses the graph`);
      }
      producer.set(out, label);
    }
    for (const a of Object.values(n.attrs)) {
      if (a.type === "tensor" || a.type === "sparse") checkWeight(a.value);
      else if (a.type === "tensors") a.value.forEach(checkWeight);
      else if (a.type === "graph") checkGraph(a.value, warnings, depth + 1);
      else if (a.type === "graphs") for (const b of a.value) checkGraph(b, warnings, depth + 1);
    }
  }
}

/** Check (and for -1 dims, normalise) the graph's declarations; warnings go to `warnings`. */
export function validateDeclared(graph: Graph, warnings: string[]): void {
  checkGraph(graph, warnings, 0);
}
