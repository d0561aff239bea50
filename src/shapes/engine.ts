/**
 * Shape inference over a whole graph: walks the execution order, looks each node up in the one op table,
 * and records every value's dtype, shape (symbolic) and, for small integer tensors, values.
 * Unknown ops and unresolvable shapes become warnings and "unknown" outputs, never guesses.
 */
import { ShapeError, UsageError } from "../errors.js";
import type { DType } from "../graph/dtype.js";
import type { Graph, Model, Node, Tensor, TensorValues, ValueType } from "../graph/ir.js";
import { executionOrder } from "../graph/order.js";
import { evaluate, lastOverflowName, MAX_EXPRESSION_CHARS, overflowCount, sym, type Dim } from "../sym/expr.js";
import { lookupRule } from "./table.js";
import { MAX_VALUE_ELEMENTS, type InferContext, type TensorInfo } from "./types.js";
import { elementCount } from "../graph/element-count.js";

export interface InferOptions {
  /** Replace an input's declared shape (`--input NAME=1x3x224x224`). */
  inputs?: Record<string, Dim[]>;
  /** Values of integer/bool inputs (`--value sr=16000`): every element of the input holds it, so shape
   *  arithmetic and an If condition computed from it are known. */
  values?: Record<string, number>;
  /** Values for symbols (`batch`, `seq`); unbound symbols stay symbolic. */
  bindings?: Record<string, Dim>;
  /** When inference can not resolve a value, use the shape the file declares (value_info), with a warning. */
  trustDeclared?: boolean;
  /** Reads the few small tensors inference needs the values of (the model's reader provides it). */
  tensorValues: TensorValues;
}

export interface NodeResult {
  node: Node;
  outputs: (TensorInfo | undefined)[];
  flops: Dim | undefined;
  /** Bytes of initializers this node reads (its parameters). */
  paramBytes: number;
  /** If/Loop/Scan: the bodies as inferred, one per graph attribute that was inferred (an If with a known
   *  condition infers only the branch it takes; a Loop keeps its last, most general, iteration). */
  bodies?: SubgraphResult[];
}

export interface SubgraphResult {
  /** The graph attribute: then_branch, else_branch, body. */
  attribute: string;
  graph: Graph;
  nodes: NodeResult[];
  /** The body's own values (its inputs, initializers and node outputs). */
  values: Map<string, TensorInfo>;
}

export interface InferenceResult {
  values: Map<string, TensorInfo>;
  nodes: NodeResult[];
  warnings: string[];
  /** Upper bounds of data-dependent symbols (NonZero counts, NMS boxes). */
  bounds: Map<string, Dim>;
}

/**
 * Node visits over all graphs, as a multiple of the model's node count (plus a floor for small models).
 * A Loop whose carried shapes change infers its body twice, so Loops nested N deep would cost 2^N visits
 * (issue 12: 30 deep, minutes and gigabytes); past the budget, a body's outputs are taken as declared.
 */
export const SUBGRAPH_WORK_FACTOR = 16;
export const SUBGRAPH_WORK_FLOOR = 5_000;

/** Warnings kept: repeats dropped, and past this many one line says how many more there were. */
export const MAX_WARNINGS = 200;

function boundedWarnings(all: readonly string[]): string[] {
  const unique = [...new Set(all)];
  if (unique.length <= MAX_WARNINGS) return unique;
  return [...unique.slice(0, MAX_WARNINGS), `${unique.length - MAX_WARNINGS} more shape-inference warnings not shown`];
}

/** Nodes in a graph and every subgraph in it. */
function countNodes(g: Graph): number {
  let n = g.nodes.length;
  for (const node of g.nodes) {
    for (const a of Object.values(node.attrs)) {
      if (a.type === "graph") n += countNodes(a.value);
      else if (a.type === "graphs") for (const sub of a.value) n += countNodes(sub);
    }
  }
  return n;
}

/** Thrown inside a rule when an input it needs is unknown: the node's outputs become unknown silently. */
class UnknownInput extends Error {}
/** Thrown by ctx.unknown(reason). */
class UnknownWithReason extends Error {}

export function inferModel(model: Model, opts: InferOptions): InferenceResult {
  const state: EngineState = {
    opsets: model.opsets,
    opts,
    warnings: [],
    bounds: new Map(),
    freshCount: new Map(),
    unknownOps: new Map(),
    visitsLeft: SUBGRAPH_WORK_FACTOR * countNodes(model.graph) + SUBGRAPH_WORK_FLOOR,
    budgetSpent: false,
  };
  const values = new Map<string, TensorInfo>();
  const g = model.graph;
  for (const t of g.initializers.values()) values.set(t.name, initializerInfo(t));
  for (const input of g.inputs) {
    if (values.has(input.name)) continue; // IR < 4: initializers listed as inputs; the initializer is the default
    const override = opts.inputs && Object.hasOwn(opts.inputs, input.name) ? opts.inputs[input.name] : undefined;
    const info = fromValueType(input.type);
    if (override) info.shape = override.slice();
    if (info.shape && opts.bindings) info.shape = info.shape.map((d) => evaluate(d, opts.bindings!));
    const given = opts.values?.[input.name];
    if (given !== undefined) info.value = filledValue(input.name, info, given);
    values.set(input.name, info);
  }
  for (const name of Object.keys(opts.values ?? {})) {
    if (!g.inputs.some((i) => i.name === name)) throw new UsageError(`--value ${name}: the model has no input '${name}' (inputs: ${g.inputs.map((i) => i.name).join(", ")})`);
  }
  const nodes = inferNodes(g, values, undefined, state);
  for (const [op, { count, first }] of state.unknownOps) {
    state.warnings.push(`unknown op '${op}' in ${count} node${count > 1 ? "s" : ""} (first: '${first}'): outputs unknown`);
  }
  return { values, nodes, warnings: boundedWarnings(state.warnings), bounds: state.bounds };
}

/** An input's elements all set to `v`: its shape must be concrete and small enough to track. */
function filledValue(name: string, info: TensorInfo, v: number): Dim[] {
  const shape = info.shape;
  if (!shape || shape.some((d) => typeof d !== "number")) throw new UsageError(`--value ${name}: the input's shape is not concrete (give it with --input or --dim)`);
  const n = elementCount(shape as number[]);
  if (n > MAX_VALUE_ELEMENTS) throw new UsageError(`--value ${name}: the input has ${n} elements, values are tracked for at most ${MAX_VALUE_ELEMENTS}`);
  return new Array<number>(n).fill(v);
}

interface EngineState {
  opsets: Record<string, number>;
  opts: InferOptions;
  warnings: string[];
  bounds: Map<string, Dim>;
  freshCount: Map<string, number>;
  unknownOps: Map<string, { count: number; first: string }>;
  /** Node visits left before subgraphs stop being inferred (SUBGRAPH_WORK_FACTOR). */
  visitsLeft: number;
  budgetSpent: boolean;
}

function initializerInfo(t: Tensor): TensorInfo {
  return { dtype: t.dtype, shape: t.dims.slice(), initializer: t };
}

export function fromValueType(t: ValueType): TensorInfo {
  switch (t.kind) {
    case "tensor":
    case "sparse":
      return { dtype: t.dtype, shape: t.shape?.slice() };
    case "sequence":
      return { kind: "sequence", dtype: undefined, shape: undefined, elem: fromValueType(t.elem) };
    case "optional":
      return { kind: "optional", dtype: undefined, shape: undefined, elem: fromValueType(t.elem) };
    default:
      return { dtype: undefined, shape: undefined };
  }
}

/** Scope lookup: a subgraph sees its own values first, then the enclosing graphs'. */
type Scope = { get(name: string): TensorInfo | undefined };

function inferNodes(g: Graph, values: Map<string, TensorInfo>, outer: Scope | undefined, st: EngineState): NodeResult[] {
  const scope: Scope = { get: (n) => values.get(n) ?? outer?.get(n) };
  const results: NodeResult[] = [];
  st.visitsLeft -= g.nodes.length;
  for (const node of executionOrder(g)) {
    const overflowsBefore = overflowCount();
    const inputs = node.inputs.map((n) => (n === "" ? undefined : scope.get(n)));
    let paramBytes = 0;
    for (const i of inputs) if (i?.initializer) paramBytes += i.initializer.bytes;
    const { outputs, flops, bodies } = inferNode(node, inputs, scope, st);
    if (overflowCount() !== overflowsBefore) {
      st.warnings.push(`node '${node.name}' (${node.opType}): a symbolic dimension grew past ${MAX_EXPRESSION_CHARS} characters; it is the unknown '${lastOverflowName()}'`);
    }
    node.outputs.forEach((name, k) => {
      if (name === "") return;
      let info = outputs[k];
      if ((!info || info.shape === undefined || info.dtype === undefined) && st.opts.trustDeclared) {
        const declared = g.valueInfo.get(name) ?? g.outputs.find((o) => o.name === name);
        if (declared) {
          const d = fromValueType(declared.type);
          if (d.shape !== undefined) {
            if (st.opts.bindings) d.shape = d.shape.map((x) => evaluate(x, st.opts.bindings!));
            info = { ...d, dtype: info?.dtype ?? d.dtype };
            st.warnings.push(`node '${node.name}': shape of '${name}' taken from the file's value_info`);
          }
        }
      }
      values.set(name, info ?? { dtype: undefined, shape: undefined });
    });
    results.push({ node, outputs, flops, paramBytes, ...(bodies.length > 0 ? { bodies } : {}) });
  }
  return results;
}

function inferNode(
  node: Node,
  inputs: (TensorInfo | undefined)[],
  scope: Scope,
  st: EngineState,
): { outputs: (TensorInfo | undefined)[]; flops: Dim | undefined; bodies: SubgraphResult[] } {
  // A domain the model does not import is read at its first version.
  const opset = st.opsets[node.domain] ?? 1;
  const rule = lookupRule(node.domain, node.opType, opset);
  if (!rule) {
    const key = node.domain === "" ? node.opType : `${node.domain}.${node.opType}`;
    const u = st.unknownOps.get(key);
    if (u) u.count++;
    else st.unknownOps.set(key, { count: 1, first: node.name });
    return { outputs: [], flops: undefined, bodies: [] };
  }
  const bodies: SubgraphResult[] = [];
  const ctx = makeContext(node, inputs, opset, scope, st, bodies);
  const done = (r: { outputs: (TensorInfo | undefined)[]; flops: Dim | undefined }) => ({ ...r, bodies });
  try {
    const outputs = rule.infer(ctx).map((o) => (o ? trimValue(o) : o));
    let flops: Dim | undefined;
    try {
      flops = rule.flops?.(ctx, outputs);
    } catch {
      flops = undefined;
    }
    return done({ outputs, flops });
  } catch (e) {
    if (e instanceof UnknownInput) return done({ outputs: [], flops: undefined });
    if (e instanceof UnknownWithReason) {
      st.warnings.push(`node '${node.name}' (${node.opType}): ${e.message}`);
      return done({ outputs: [], flops: undefined });
    }
    if (e instanceof ShapeError) {
      st.warnings.push(e.message);
      return done({ outputs: [], flops: undefined });
    }
    if (e instanceof RangeError || e instanceof TypeError) {
      // A rule met inputs it did not expect (a malformed model): report, never crash.
      st.warnings.push(`${node.opType} node '${node.name}': ${e.message}`);
      return done({ outputs: [], flops: undefined });
    }
    throw e;
  }
}

function trimValue(o: TensorInfo): TensorInfo {
  if (o.value !== undefined && o.value.length > MAX_VALUE_ELEMENTS) {
    const { value: _drop, ...rest } = o;
    return rest;
  }
  return o;
}

function makeContext(
  node: Node,
  inputs: (TensorInfo | undefined)[],
  opset: number,
  scope: Scope,
  st: EngineState,
  bodies: SubgraphResult[],
): InferContext {
  const attr = (name: string) => node.attrs[name];
  const ctx: InferContext = {
    node,
    opset,
    inputs,
    outputCount: node.outputs.length,
    input(i) {
      const v = inputs[i];
      if (!v) {
        if (i < node.inputs.length && node.inputs[i] !== "") throw new UnknownInput();
        return ctx.error(`input ${i} is missing`);
      }
      return v;
    },
    has(i) {
      return i < node.inputs.length && node.inputs[i] !== "";
    },
    shape(i) {
      const v = ctx.input(i);
      if (v.shape === undefined) throw new UnknownInput();
      return v.shape;
    },
    dtype(i): DType {
      const v = ctx.input(i);
      if (v.dtype === undefined) throw new UnknownInput();
      return v.dtype;
    },
    value(i) {
      const v = inputs[i];
      if (!v) return undefined;
      if (v.value === undefined && v.initializer && v.initializer.elements <= MAX_VALUE_ELEMENTS) {
        try {
          const vals = st.opts.tensorValues(v.initializer);
          if (typeof vals[0] !== "string") v.value = vals as number[];
        } catch {
          return undefined;
        }
      }
      return v.value;
    },
    numbers(i) {
      const v = ctx.value(i);
      if (!v || v.some((d) => typeof d !== "number")) return undefined;
      return v as number[];
    },
    int(name: string, dflt?: number): number {
      const a = attr(name);
      if (a?.type === "int") return a.value;
      if (a?.type === "float") return Math.trunc(a.value);
      return dflt as number;
    },
    ints(name) {
      const a = attr(name);
      if (a?.type === "ints") return a.value;
      if (a?.type === "int") return [a.value];
      return undefined;
    },
    float(name: string, dflt: number) {
      const a = attr(name);
      if (a?.type === "float") return a.value;
      if (a?.type === "int") return a.value;
      return dflt;
    },
    floats(name) {
      const a = attr(name);
      if (a?.type === "floats") return a.value;
      if (a?.type === "ints") return a.value;
      return undefined;
    },
    string(name: string, dflt?: string): string {
      const a = attr(name);
      return a?.type === "string" ? a.value : (dflt as string);
    },
    strings(name) {
      const a = attr(name);
      return a?.type === "strings" ? a.value : undefined;
    },
    tensor(name) {
      const a = attr(name);
      return a?.type === "tensor" ? a.value : undefined;
    },
    tensorValues(t) {
      if (t.elements > MAX_VALUE_ELEMENTS) ctx.unknown(`tensor '${t.name}' is too large to read (${t.elements} elements)`);
      const v = st.opts.tensorValues(t);
      if (typeof v[0] === "string") return v.map(() => 0);
      return v as number[];
    },
    graph(name) {
      const a = attr(name);
      return a?.type === "graph" ? a.value : undefined;
    },
    inferSubgraph(g, subInputs) {
      if (st.budgetSpent || st.visitsLeft < g.nodes.length) {
        if (!st.budgetSpent) {
          st.budgetSpent = true;
          // First in the list: it explains the warnings after it, and the list is capped (MAX_WARNINGS).
          st.warnings.unshift(`node '${node.name}' (${node.opType}): subgraph inference stopped after ${SUBGRAPH_WORK_FACTOR} times the model's node count in visits (bodies re-inferred inside bodies); this and later subgraphs' outputs are their declared types`);
        }
        return g.outputs.map((o) => fromValueType(o.type));
      }
      const local = new Map<string, TensorInfo>();
      for (const t of g.initializers.values()) local.set(t.name, initializerInfo(t));
      g.inputs.forEach((vi, k) => {
        const given = subInputs[k];
        const declared = fromValueType(vi.type);
        local.set(vi.name, given ?? declared);
      });
      const nodes = inferNodes(g, local, scope, st);
      // A body inferred again (a Loop generalising its carried shapes) replaces its earlier result.
      const attribute = Object.entries(node.attrs).find(([, a]) => a.type === "graph" && a.value === g)?.[0] ?? "body";
      const k = bodies.findIndex((b) => b.graph === g);
      const result: SubgraphResult = { attribute, graph: g, nodes, values: local };
      if (k >= 0) bodies[k] = result;
      else bodies.push(result);
      return g.outputs.map((o) => local.get(o.name) ?? scope.get(o.name) ?? fromValueType(o.type));
    },
    fresh(hint, upperBound) {
      const n = (st.freshCount.get(hint) ?? 0) + 1;
      st.freshCount.set(hint, n);
      const name = `${hint}_${n}`;
      if (upperBound !== undefined) st.bounds.set(name, upperBound);
      return sym(name);
    },
    warn(message) {
      st.warnings.push(`node '${node.name}' (${node.opType}): ${message}`);
    },
    unknown(reason): never {
      throw new UnknownWithReason(reason);
    },
    error(detail): never {
      throw new ShapeError(node.name, node.opType, detail);
    },
  };
  return ctx;
}
