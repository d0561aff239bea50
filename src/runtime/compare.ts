/**
 * One profiled run side by side with the static prediction at the same input shapes: per node, the
 * output shapes and bytes onnxruntime measured against what memlens predicted, and why they differ.
 * Pure over (model, input shapes, parsed profile).
 */
import { analyzeModel } from "../analyze.js";
import type { Model, Node } from "../graph/ir.js";
import { flattenBodies } from "../shapes/bodies.js";
import type { Layer } from "../contract/report.js";
import { ortTypeToShort, type NodeProfile, type ProfiledRun } from "./ort-profile-parse.js";

export interface MeasuredSide {
  outputBytes: number;
  ms: number;
  shapes: number[][];
  /** How many times the node ran (Loop bodies run more than once); sizes are from the first. */
  calls: number;
}

export interface PredictedSide {
  outputBytes: number | null;
  shapes: ((number | string)[] | null)[];
}

export interface LayerComparison {
  name: string;
  op: string;
  measured: MeasuredSide | null;
  predicted: PredictedSide | null;
  agree: boolean;
  /** Why they disagree, or why a node has one side only. */
  reason?: string;
  /** If/Loop/Scan body nodes: the enclosing node and graph attribute (`If_0/then_branch`). */
  parent?: string;
}

export interface RunComparison {
  inputShapes: Record<string, number[]>;
  layers: LayerComparison[];
  disagreements: number;
  /** Warnings of the static analysis at these shapes. */
  warnings: string[];
}

/** Nodes onnxruntime turns into initializers when it loads the graph: they never run. */
const FOLDED_AT_LOAD = new Set(["Constant"]);

export function compareRun(model: Model, inputShapes: Record<string, number[]>, run: ProfiledRun, inputValues: Record<string, number> = {}): RunComparison {
  const lead = Object.values(inputShapes)[0]?.[0];
  const { report, inference } = analyzeModel(model, { inputs: inputShapes, values: inputValues, ...(lead !== undefined ? { batch: lead } : {}) });
  // report.layers[i] is flat[i]: body nodes follow their If/Loop/Scan. onnxruntime names an unnamed node
  // `<OpType>_<index>`, counting its own graph's nodes after it has turned Constant nodes into initializers.
  const flat = flattenBodies(inference, model.graph.nodes);
  const fileIndex = new Map<object, number>();
  const indexed = new Set<readonly Node[]>();
  for (const f of flat) {
    if (indexed.has(f.siblings)) continue;
    indexed.add(f.siblings);
    let k = 0;
    for (const n of f.siblings) if (!(n.domain === "" && FOLDED_AT_LOAD.has(n.opType))) fileIndex.set(n, k++);
  }
  const runtimeName = flat.map(({ result: r }) => r.node.name !== "" ? r.node.name : `${r.node.opType}_${fileIndex.get(r.node) ?? -1}`);
  const noOpCast = flat.map(({ result: r, value }) => {
    if (r.node.opType !== "Cast" || r.node.domain !== "") return false;
    const from = value(r.node.inputs[0] ?? "")?.dtype;
    const to = value(r.node.outputs[0] ?? "")?.dtype;
    return from !== undefined && from === to;
  });
  const measuredByName = new Map<string, { first: NodeProfile; calls: number; us: number }>();
  for (const n of run.nodes) {
    const m = measuredByName.get(n.name);
    if (m) {
      m.calls++;
      m.us += n.durationUs;
    } else measuredByName.set(n.name, { first: n, calls: 1, us: n.durationUs });
  }
  const layers: LayerComparison[] = [];
  const seen = new Set<string>();
  for (const [i, reported] of report.layers.entries()) {
    const name = runtimeName[i] ?? reported.name;
    const layer = { ...reported, name };
    seen.add(name);
    const m = measuredByName.get(name);
    const predicted = predictedSide(layer);
    const parent = layer.parent !== undefined ? { parent: layer.parent } : {};
    if (!m) {
      const why = FOLDED_AT_LOAD.has(layer.op)
        ? "onnxruntime stores Constant outputs as initializers: not run"
        : noOpCast[i]
          ? "Cast to its input's own type: onnxruntime removes it at load, at every optimization level"
          : layer.parent !== undefined
            ? "in a body onnxruntime did not run (an If branch not taken, or a loop run zero times)"
            : undefined;
      layers.push({
        name: layer.name, op: layer.op, measured: null, predicted, agree: why !== undefined,
        reason: why ?? "in the model but not run by onnxruntime", ...parent,
      });
      continue;
    }
    const measured: MeasuredSide = {
      outputBytes: m.first.outputSize,
      ms: m.us / 1000,
      shapes: m.first.outputs.map((o) => o.dims),
      calls: m.calls,
    };
    const reason = disagreement(layer, m.first, predicted);
    layers.push(reason ? { name: layer.name, op: layer.op, measured, predicted, agree: false, reason, ...parent } : { name: layer.name, op: layer.op, measured, predicted, agree: true, ...parent });
  }
  for (const [name, m] of measuredByName) {
    if (seen.has(name)) continue;
    layers.push({
      name, op: m.first.op,
      measured: { outputBytes: m.first.outputSize, ms: m.us / 1000, shapes: m.first.outputs.map((o) => o.dims), calls: m.calls },
      predicted: null, agree: false, reason: "run by onnxruntime but not a node of the model (inserted by the runtime)",
    });
  }
  return { inputShapes, layers, disagreements: layers.filter((l) => !l.agree).length, warnings: report.warnings };
}

function predictedSide(layer: Layer): PredictedSide {
  const outs = layer.outputs.filter((o) => o.name !== "");
  let bytes: number | null = 0;
  for (const o of outs) bytes = o.bytes === null || bytes === null ? null : bytes + o.bytes;
  return { outputBytes: bytes, shapes: outs.map((o) => o.shape) };
}

function disagreement(layer: Layer, m: NodeProfile, p: PredictedSide): string | undefined {
  const outs = layer.outputs.filter((o) => o.name !== "");
  if (outs.length !== m.outputs.length) {
    return `${m.outputs.length} outputs measured, ${outs.length} predicted`;
  }
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i]!;
    const got = m.outputs[i]!;
    if (o.shape === null) return `output ${i} (${o.name}): shape not inferred, measured [${got.dims.join(", ")}]`;
    if (o.shape.length !== got.dims.length || o.shape.some((d, k) => d !== got.dims[k])) {
      return `output ${i} (${o.name}): predicted [${o.shape.join(", ")}], measured [${got.dims.join(", ")}]`;
    }
    const mt = ortTypeToShort(got.type);
    if (o.dtype !== null && o.dtype !== mt) return `output ${i} (${o.name}): predicted ${o.dtype}, measured ${mt}`;
  }
  if (p.outputBytes !== m.outputSize) return `predicted ${p.outputBytes ?? "unknown"} bytes, measured ${m.outputSize}`;
  return undefined;
}
