import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelFormatError } from "../errors.js";
import { ortTypeToShort, parseOrtProfile } from "./ort-profile-parse.js";

const node = (name: string, ts: number, extra: Record<string, unknown> = {}) => ({
  cat: "Node", name: `${name}_kernel_time`, ts, dur: 10, ph: "X",
  args: { op_name: "Conv", provider: "CPUExecutionProvider", output_type_shape: [{ float: [4, 32, 112, 112] }], output_size: "6422528", activation_size: "2408448", parameter_size: "3584", ...extra },
});

test("kernel events become per-node facts grouped by model_run", () => {
  const events = [
    { cat: "Session", name: "session_initialization", ts: 0, dur: 500 },
    { cat: "Session", name: "model_run", ts: 1000, dur: 100 },
    node("/conv/Conv", 1001, { mem_arena_held: "1048576" }),
    { cat: "Node", name: "/conv/Conv_fence_before", ts: 1000, dur: 0 },
    { cat: "Session", name: "model_run", ts: 2000, dur: 90 },
    node("/conv/Conv", 2001),
  ];
  const p = parseOrtProfile(JSON.stringify(events));
  assert.equal(p.initUs, 500);
  assert.equal(p.runs.length, 2);
  const n = p.runs[0]!.nodes[0]!;
  assert.deepEqual(
    { name: n.name, op: n.op, out: n.outputs, size: n.outputSize, act: n.activationSize, par: n.parameterSize, held: n.arenaHeld },
    { name: "/conv/Conv", op: "Conv", out: [{ type: "float", dims: [4, 32, 112, 112] }], size: 6422528, act: 2408448, par: 3584, held: 1048576 },
  );
  assert.equal(p.runs[0]!.nodes.length, 1, "fence events are not kernels");
  assert.equal(p.runs[1]!.nodes[0]!.arenaHeld, undefined);
});

test("not JSON or not an array: ModelFormatError", () => {
  assert.throws(() => parseOrtProfile("{"), ModelFormatError);
  assert.throws(() => parseOrtProfile("{}"), /array/);
});

test("ORT element names map to the report's dtype names", () => {
  assert.equal(ortTypeToShort("float"), "fp32");
  assert.equal(ortTypeToShort("int64_t"), "int64");
  assert.equal(ortTypeToShort("MLFloat16"), "fp16");
});
