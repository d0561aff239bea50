/**
 * Two agreement checks on the shared fixtures:
 * - ORT: every node of the onnx-legacy models, at batch 1 and 4, has the output shapes and output bytes
 *   that onnxruntime's profiler recorded (bench/fixtures/ort-reference-legacy.json).
 * - Exporter: every intermediate of the onnx-dynamo models has the shape the exporter wrote in value_info,
 *   symbol for symbol (inference runs without looking at value_info).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeModel } from "../src/analyze.js";
import { loadModelFile } from "../src/formats/load-node.js";
import { inferModel, fromValueType } from "../src/shapes/engine.js";
import { dimToString, equal, type Dim } from "../src/sym/expr.js";
import { DYNAMO_FIXTURES, FIXTURES, LEGACY_FIXTURES } from "./shared.js";
import { onnxTensorValues } from "../src/formats/onnx/values.js";

export const LEGACY = ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"];
export const DYNAMO = [...LEGACY, "bert-base", "gpt2"];

interface OrtNode {
  node: string;
  op: string;
  out: Record<string, number[]>[];
  output_size: number;
}

export interface Mismatch {
  model: string;
  node: string;
  detail: string;
}

/** Compare with onnxruntime's per-node output shapes and sizes. Returns the mismatches and nodes compared. */
export function ortAgreement(name: string, batch: number): { compared: number; mismatches: Mismatch[] } {
  const ref = JSON.parse(readFileSync(join(FIXTURES, "ort-reference-legacy.json"), "utf8")) as Record<
    string,
    { runs: Record<string, { nodes: OrtNode[] }> }
  >;
  const run = ref[name]?.runs[String(batch)];
  if (!run) throw new Error(`no ORT reference for ${name} batch ${batch}`);
  const { model } = loadModelFile(join(LEGACY_FIXTURES, `${name}.onnx`));
  const { report } = analyzeModel(model, { batch });
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  const mismatches: Mismatch[] = [];
  for (const n of run.nodes) {
    const layer = byName.get(n.node);
    if (!layer) {
      mismatches.push({ model: name, node: n.node, detail: "not in our layers" });
      continue;
    }
    const want = n.out.map((o) => Object.values(o)[0]!);
    const got = layer.outputs.map((o) => o.shape);
    const bytes = layer.outputs.reduce((s, o) => s + (o.bytes ?? NaN), 0);
    if (JSON.stringify(want) !== JSON.stringify(got) || bytes !== n.output_size) {
      mismatches.push({
        model: name,
        node: n.node,
        detail: `${n.op}: got ${JSON.stringify(got)} ${bytes} B, ORT ${JSON.stringify(want)} ${n.output_size} B`,
      });
    }
  }
  return { compared: run.nodes.length, mismatches };
}

/** Compare with the exporter's value_info, symbol for symbol. */
export function exporterAgreement(name: string): { compared: number; mismatches: Mismatch[] } {
  const { model } = loadModelFile(join(DYNAMO_FIXTURES, `${name}.onnx`));
  const declared = new Map(model.graph.valueInfo);
  for (const o of model.graph.outputs) declared.set(o.name, o);
  const result = inferModel(model, { trustDeclared: false, tensorValues: onnxTensorValues() });
  const mismatches: Mismatch[] = [];
  let compared = 0;
  for (const [vname, vi] of declared) {
    const want = fromValueType(vi.type);
    if (!want.shape) continue;
    compared++;
    const got = result.values.get(vname);
    const ok =
      got?.shape !== undefined &&
      got.shape.length === want.shape.length &&
      got.shape.every((d, i) => isExporterUnknown(want.shape![i]!) || equal(d, want.shape![i]!)) &&
      (want.dtype === undefined || got.dtype === want.dtype);
    if (!ok) {
      const producer = model.graph.nodes.find((n) => n.outputs.includes(vname));
      mismatches.push({
        model: name,
        node: `${producer?.name ?? "?"} (${producer?.opType ?? "?"}) -> ${vname}`,
        detail: `got ${got?.dtype}[${got?.shape?.map(dimToString).join(",") ?? "?"}], file ${want.dtype}[${want.shape.map(dimToString).join(",")}]`,
      });
    }
  }
  return { compared, mismatches };
}

/**
 * ONNX's shape inference names a dim it could not work out `unk__N`: the exporter does not know it, so it
 * constrains nothing (rank and every other dim are still compared).
 */
function isExporterUnknown(d: Dim): boolean {
  return typeof d !== "number" && /^unk__\d+$/.test(dimToString(d));
}
