/**
 * onnxruntime's profiler output (a Chrome trace: a JSON array of events), parsed into per-node facts.
 * Pure: no onnxruntime import, so tests and the ORT memory model can read saved profiles.
 *
 * A node's `<name>_kernel_time` event carries `args.op_name`, `args.provider`, `args.output_type_shape`
 * (`[{"float":[4,32,112,112]}]`) and sizes as decimal strings: `output_size`, `activation_size`
 * (non-constant inputs), `parameter_size` (initializer inputs). Builds with arena statistics also add
 * `mem_arena_held` and `mem_in_use_peak`; they are kept when present.
 */
import { ModelFormatError } from "../errors.js";

export interface ProfiledOutput {
  /** ORT's element type name as written in the profile (`float`, `int64_t`, ...). */
  type: string;
  dims: number[];
}

export interface NodeProfile {
  name: string;
  op: string;
  provider: string;
  outputs: ProfiledOutput[];
  outputSize: number;
  activationSize: number;
  parameterSize: number;
  /** Kernel time in microseconds. */
  durationUs: number;
  /** Arena bytes held after this node ran, when the build reports it. */
  arenaHeld?: number;
  /** Arena in-use peak so far, when the build reports it. */
  arenaInUsePeak?: number;
}

export interface ProfiledRun {
  /** Wall time of `model_run` in microseconds. */
  durationUs: number;
  /** Nodes in execution order. A node run more than once (inside a Loop) appears once per execution. */
  nodes: NodeProfile[];
}

export interface ParsedProfile {
  /** Session initialization time (graph transforms, kernel creation), microseconds. */
  initUs: number;
  runs: ProfiledRun[];
}

interface TraceEvent {
  cat?: unknown;
  name?: unknown;
  ts?: unknown;
  dur?: unknown;
  args?: Record<string, unknown>;
}

const KERNEL_SUFFIX = "_kernel_time";

export function parseOrtProfile(json: string): ParsedProfile {
  let events: unknown;
  try {
    events = JSON.parse(json);
  } catch (e) {
    throw new ModelFormatError(`onnxruntime profile is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(events)) throw new ModelFormatError("onnxruntime profile is not a JSON array of events");
  const runWindows: { start: number; end: number; dur: number }[] = [];
  let initUs = 0;
  const kernels: { ts: number; node: NodeProfile }[] = [];
  for (const raw of events as TraceEvent[]) {
    if (raw === null || typeof raw !== "object") continue;
    const name = typeof raw.name === "string" ? raw.name : "";
    const ts = num(raw.ts);
    const dur = num(raw.dur);
    if (raw.cat === "Session") {
      if (name === "model_run") runWindows.push({ start: ts, end: ts + dur, dur });
      else if (name === "session_initialization") initUs += dur;
      continue;
    }
    if (raw.cat !== "Node" || !name.endsWith(KERNEL_SUFFIX)) continue;
    const a = raw.args ?? {};
    const node: NodeProfile = {
      name: name.slice(0, -KERNEL_SUFFIX.length),
      op: typeof a["op_name"] === "string" ? a["op_name"] : "",
      provider: typeof a["provider"] === "string" ? a["provider"] : "",
      outputs: parseTypeShapes(a["output_type_shape"]),
      outputSize: num(a["output_size"]),
      activationSize: num(a["activation_size"]),
      parameterSize: num(a["parameter_size"]),
      durationUs: dur,
    };
    if (a["mem_arena_held"] !== undefined) node.arenaHeld = num(a["mem_arena_held"]);
    if (a["mem_in_use_peak"] !== undefined) node.arenaInUsePeak = num(a["mem_in_use_peak"]);
    kernels.push({ ts, node });
  }
  runWindows.sort((x, y) => x.start - y.start);
  const runs: ProfiledRun[] = runWindows.map((w) => ({ durationUs: w.dur, nodes: [] }));
  kernels.sort((x, y) => x.ts - y.ts);
  for (const k of kernels) {
    // A kernel belongs to the run whose window holds its start; without run events, one synthetic run.
    let i = runWindows.findIndex((w) => k.ts >= w.start && k.ts <= w.end);
    if (i < 0) {
      if (runs.length === 0) runs.push({ durationUs: 0, nodes: [] });
      i = runs.length - 1;
    }
    runs[i]!.nodes.push(k.node);
  }
  return { initUs, runs };
}

function num(v: unknown): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return 0;
}

function parseTypeShapes(v: unknown): ProfiledOutput[] {
  if (!Array.isArray(v)) return [];
  const out: ProfiledOutput[] = [];
  for (const entry of v) {
    if (entry === null || typeof entry !== "object") continue;
    for (const [type, dims] of Object.entries(entry as Record<string, unknown>)) {
      out.push({ type, dims: Array.isArray(dims) ? dims.map(num) : [] });
    }
  }
  return out;
}

/** ORT's profile element type names -> the report's short dtype names. */
const ORT_TYPE_TO_SHORT: Record<string, string> = {
  float: "fp32", double: "fp64", MLFloat16: "fp16", BFloat16: "bf16",
  int8_t: "int8", uint8_t: "uint8", int16_t: "int16", uint16_t: "uint16",
  int32_t: "int32", uint32_t: "uint32", int64_t: "int64", uint64_t: "uint64", bool: "bool",
};

export function ortTypeToShort(type: string): string {
  return ORT_TYPE_TO_SHORT[type] ?? type;
}
