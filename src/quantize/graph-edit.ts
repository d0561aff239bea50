/**
 * A working copy of a model for the quantizers: new node list and initializer map (the original model is
 * never changed; untouched weights stay lazy references into the source file), fresh names, constants.
 */
import { ModelFormatError } from "../errors.js";
import type { DType } from "../graph/dtype.js";
import type { Attr, Model, Node, Tensor } from "../graph/ir.js";
import { readTensorBytes, readTensorValues, type ExternalOpener } from "../formats/onnx/values.js";
import { tensorFromBytes } from "../formats/onnx/writer.js";

export class GraphEditor {
  readonly nodes: Node[];
  readonly initializers: Map<string, Tensor>;
  private readonly names = new Set<string>();
  /** Outputs of Constant nodes, by tensor name. */
  private readonly constants = new Map<string, Tensor>();

  constructor(readonly model: Model, readonly openExternal?: ExternalOpener) {
    const g = model.graph;
    this.nodes = g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] }));
    this.initializers = new Map(g.initializers);
    for (const n of g.nodes) {
      n.outputs.forEach((o) => this.names.add(o));
      if (n.name) this.names.add(n.name);
      const value = n.attrs["value"];
      if (n.opType === "Constant" && n.domain === "" && value?.type === "tensor" && n.outputs[0]) this.constants.set(n.outputs[0], value.value);
    }
    for (const k of g.initializers.keys()) this.names.add(k);
    for (const v of g.inputs) this.names.add(v.name);
  }

  /** A name not used by any tensor or node yet. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** The tensor behind a constant input (initializer that is not a graph input, or a Constant node). */
  constant(name: string): Tensor | undefined {
    if (name === "") return undefined;
    const init = this.initializers.get(name);
    if (init) return this.model.graph.inputs.some((v) => v.name === name) ? undefined : init;
    return this.constants.get(name);
  }

  /** A float32 constant's values, or undefined when `name` is not a float32 constant. */
  floats(name: string): Float32Array | undefined {
    const t = this.constant(name);
    if (!t || t.dtype !== "float32") return undefined;
    const b = readTensorBytes(t, this.openExternal);
    // Copy: the bytes may be a view at an unaligned offset of a shared buffer.
    const out = new Float32Array(t.elements);
    new Uint8Array(out.buffer).set(b.subarray(0, t.elements * 4));
    return out;
  }

  /** A scalar numeric constant's value. */
  scalar(name: string): number | undefined {
    const t = this.constant(name);
    if (!t || t.elements !== 1 || t.dtype === "string") return undefined;
    const v = readTensorValues(t, this.openExternal);
    return typeof v[0] === "number" ? v[0] : undefined;
  }

  addInitializer(base: string, dtype: DType, dims: readonly number[], data: ArrayBufferView): string {
    const name = this.fresh(base);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.set(name, tensorFromBytes(name, dtype, dims, bytes));
    return name;
  }

  /** Drop initializers no node (or subgraph) reads any more: the float weights that were replaced. */
  dropUnused(): void {
    const used = new Set<string>();
    const visit = (nodes: readonly Node[]) => {
      for (const n of nodes) {
        n.inputs.forEach((i) => used.add(i));
        for (const a of Object.values(n.attrs)) for (const g of subgraphs(a)) visit(g.nodes);
      }
    };
    visit(this.nodes);
    for (const o of this.model.graph.outputs) used.add(o.name);
    for (const k of [...this.initializers.keys()]) if (!used.has(k)) this.initializers.delete(k);
  }

  /** Node index by each tensor it produces, and consumers by tensor name. */
  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        if (i === "") continue;
        const list = m.get(i);
        if (list) list.push(n);
        else m.set(i, [n]);
      }
    }
    return m;
  }

  producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) m.set(o, n);
    return m;
  }

  /** The edited model; `opsets` adds domains the new nodes need. */
  build(extraOpsets: Record<string, number> = {}, minDefaultOpset = 0): Model {
    const opsets = { ...this.model.opsets, ...extraOpsets };
    if ((opsets[""] ?? 0) < minDefaultOpset) {
      throw new ModelFormatError(`the model's opset ${opsets[""] ?? 0} is older than the ${minDefaultOpset} these quantized ops need`);
    }
    const g = this.model.graph;
    return {
      ...this.model,
      opsets,
      graph: { ...g, nodes: this.nodes, initializers: this.initializers },
      warnings: [],
    };
  }
}

function subgraphs(a: Attr) {
  return a.type === "graph" ? [a.value] : a.type === "graphs" ? a.value : [];
}

export function node(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, Attr> = {}, domain = ""): Node {
  return { name, opType, domain, inputs, outputs, attrs };
}

export const intAttr = (value: number): Attr => ({ type: "int", value });
