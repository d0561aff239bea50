/**
 * Shape-inference conformance against ONNX's own backend test suite (Debian package libonnx-testdata),
 * with the protocol of bench/fixtures/README.md: declared output shapes and value_info are not used,
 * small integer inputs become initializers, and every output's inferred dims must equal the dims of the
 * expected output tensor.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { readTensor } from "../src/formats/onnx/read-tensor.js";
import { ProtoReader } from "../src/formats/onnx/proto.js";
import { FileSource } from "../src/formats/source-node.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { inferModel } from "../src/shapes/engine.js";
import { dimToString } from "../src/sym/expr.js";
import type { Tensor } from "../src/graph/ir.js";
import { onnxTensorValues } from "../src/formats/onnx/values.js";

export const TESTDATA = "/usr/share/libonnx-testdata/data";
const SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"];
/** Protocol step 3: integer inputs with at most this many elements are constants in real models. */
const SMALL_INT_INPUT = 64;

export interface CaseResult {
  suite: string;
  name: string;
  op: string;
  /** "pass", "fail", or "skip" (outputs are not all tensors: not counted). */
  status: "pass" | "fail" | "skip";
  reason?: string;
}

/** Install the Debian package when it is missing (tests run as root in CI). */
export function ensureTestdata(): boolean {
  if (existsSync(join(TESTDATA, "node"))) return true;
  try {
    execFileSync("sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libonnx-testdata"], {
      stdio: "ignore",
      timeout: 600_000,
    });
  } catch {
    return false;
  }
  return existsSync(join(TESTDATA, "node"));
}

function readPb(path: string): Tensor {
  const src = new FileSource(path);
  const r = new ProtoReader(src);
  // A TensorProto file: the reader expects the message body directly.
  return readTensor(r, src);
}

export function runCase(dir: string, suite: string, name: string): CaseResult {
  const modelPath = join(dir, "model.onnx");
  let op = "?";
  try {
    const { model } = loadModelFile(modelPath);
    const g = model.graph;
    const firstOut = g.outputs[0]?.name;
    op = g.nodes.find((n) => n.outputs.includes(firstOut ?? ""))?.opType ?? g.nodes[0]?.opType ?? "?";
    if (!g.outputs.every((o) => o.type.kind === "tensor")) return { suite, name, op, status: "skip" };
    const dataDir = join(dir, "test_data_set_0");
    const files = existsSync(dataDir) ? readdirSync(dataDir) : [];
    const realInputs = g.inputs.filter((i) => !g.initializers.has(i.name));
    const constants = new Set<string>();
    realInputs.forEach((vi, k) => {
      const f = join(dataDir, `input_${k}.pb`);
      if (!files.includes(`input_${k}.pb`) || vi.type.kind !== "tensor") return;
      const t = readPb(f);
      if ((t.dtype === "int64" || t.dtype === "int32") && t.elements <= SMALL_INT_INPUT) {
        g.initializers.set(vi.name, { ...t, name: vi.name });
        constants.add(vi.name);
      }
    });
    g.inputs = g.inputs.filter((i) => !constants.has(i.name));
    g.valueInfo.clear();
    const result = inferModel(model, { trustDeclared: false, tensorValues: onnxTensorValues() });
    const problems: string[] = [];
    g.outputs.forEach((o, k) => {
      const file = `output_${k}.pb`;
      if (!files.includes(file)) {
        problems.push(`no ${file}`);
        return;
      }
      const want = readPb(join(dataDir, file)).dims;
      const got = result.values.get(o.name)?.shape;
      if (!got) problems.push(`${o.name}: unknown, want [${want}]`);
      else if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
        problems.push(`${o.name}: got [${got.map(dimToString)}], want [${want}]`);
      }
    });
    if (problems.length === 0) return { suite, name, op, status: "pass" };
    const warn = result.warnings.length ? ` (${result.warnings.slice(0, 2).join("; ")})` : "";
    return { suite, name, op, status: "fail", reason: problems.join("; ") + warn };
  } catch (e) {
    return { suite, name, op, status: "fail", reason: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

export function runConformance(root = TESTDATA): CaseResult[] {
  const out: CaseResult[] = [];
  for (const suite of SUITES) {
    const base = join(root, suite);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (!existsSync(join(dir, "model.onnx"))) continue;
      out.push(runCase(dir, suite, name));
    }
  }
  return out;
}

export function summarise(results: CaseResult[]): { counted: number; passed: number; rate: number } {
  const counted = results.filter((r) => r.status !== "skip").length;
  const passed = results.filter((r) => r.status === "pass").length;
  return { counted, passed, rate: counted ? passed / counted : 0 };
}
