/**
 * ORT's ConvAddActivationFusion (core/optimizer/conv_add_act_fusion.cc), which the wasm build runs because it has
 * no NCHWc layout to do the same (onnxruntime-web 1.30's verbose log: "ConvAddActivationFusion modified: 1" on
 * resnet50): a Conv whose only reader is an Add of a computed tensor of the same shape takes that tensor as its
 * Sum input Z, and a Relu after the Add folds in too. The CPU FusedConv kernel may write its output over Z
 * (MayInplace(3, 0)), so the residual's buffer is reused. The fused node runs where the Add ran: Z is ready there.
 */
import { consumersOf, type OrtGraph, type OrtNode } from "../ort/graph.js";

export function fuseConvAdd(graph: OrtGraph): OrtNode[] {
  const consumers = consumersOf(graph.nodes);
  const outputs = new Set(graph.outputs);
  const sameShape = (a: string, b: string) => {
    const x = graph.tensors.get(a)?.shape;
    const y = graph.tensors.get(b)?.shape;
    return x !== undefined && y !== undefined && x.length === y.length && x.every((d, i) => d === y[i]);
  };
  const replaced = new Map<OrtNode, OrtNode>();
  const dropped = new Set<OrtNode>();
  for (const conv of graph.nodes) {
    if (conv.op !== "Conv" || conv.activation || dropped.has(conv)) continue;
    const o = conv.outputs[0];
    const users = o ? (consumers.get(o) ?? []) : [];
    const add = users.length === 1 && o && !outputs.has(o) ? users[0] : undefined;
    if (!o || add?.op !== "Add" || replaced.has(add) || dropped.has(add)) continue;
    const z = add.inputs.find((i) => i !== o);
    if (!z || graph.constants.has(z) || !sameShape(z, o) || !sameShape(add.outputs[0]!, o)) continue;
    const fused: OrtNode = { ...conv, op: "ms.FusedConv", inputs: [conv.inputs[0]!, conv.inputs[1]!, conv.inputs[2] ?? "", z], outputs: [add.outputs[0]!] };
    const after = outputs.has(add.outputs[0]!) ? [] : (consumers.get(add.outputs[0]!) ?? []);
    if (after.length === 1 && after[0]!.op === "Relu") {
      fused.activation = "Relu";
      fused.outputs = [after[0]!.outputs[0]!];
      dropped.add(after[0]!);
    }
    dropped.add(conv);
    replaced.set(add, fused);
  }
  return graph.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
}
