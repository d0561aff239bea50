import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { bodyDepth, bytes, shape } from "../report/format.js";
import { loadImage } from "../runtime/image.js";
import { MemlensModel } from "../runtime/model.js";
import type { HostTensor, ProviderChoice, TensorType } from "../runtime/ort.js";
import { profile, type ProfileResult } from "../runtime/profile.js";
import { parseDimSpec, parseInputSpec, parseValueSpec, positiveInt, repeated } from "./options.js";
import type { Dim } from "../sym/expr.js";
import { preprocessArgs, preprocessOptions } from "./preprocess-args.js";
import { printOut, printErr } from "./print.js";
import { elementCount } from "../graph/element-count.js";

export default defineCommand({
  meta: { name: "profile", description: "run the model with onnxruntime's profiler: measured per-layer outputs and peak RSS beside the prediction" },
  args: {
    model: { type: "positional", description: "model file (.onnx)", required: true },
    image: { type: "string", description: "an image to run (repeated to fill the batch); default: random input" },
    batch: { type: "string", description: "batch size", default: "1" },
    input: { type: "string", description: "input shape NAME=D0xD1x... (repeatable)" },
    dim: { type: "string", description: "symbol value NAME=N for other symbolic input dims (repeatable)" },
    value: { type: "string", description: "value of an integer/bool input NAME=V, e.g. sr=16000 (repeatable); other inputs are random" },
    "random-weights": { type: "boolean", description: "fill initializers whose external data is absent with random values" },
    resize: { type: "boolean", description: "resize the image to the model's input size" },
    convert: { type: "boolean", description: "convert gray <-> RGB when the channel count differs" },
    provider: { type: "string", description: "auto|cpu|cuda|webgpu (auto: CUDA where onnxruntime-node has it, else CPU)", default: "auto" },
    json: { type: "boolean", description: "print the profile JSON contract" },
    ...preprocessArgs,
  },
  async run({ args, rawArgs }) {
    const batch = positiveInt(args.batch, "--batch") ?? 1;
    const dims = Object.fromEntries(repeated(rawArgs, "dim").map(parseDimSpec));
    const inputs = Object.fromEntries(repeated(rawArgs, "input").map(parseInputSpec));
    const values = Object.fromEntries(repeated(rawArgs, "value").map(parseValueSpec));
    const model = MemlensModel.load(args.model, { provider: providerArg(args.provider), randomWeights: Boolean(args["random-weights"]), ...preprocessOptions(args) });
    try {
      let result: ProfileResult<unknown>;
      if (args.image) {
        const options = { ...(args.resize ? { resize: true } : {}), ...(args.convert ? { convert: true } : {}) };
        const image = await loadImage(args.image, { ...options, model });
        const images = new Array(batch).fill(image);
        result = await profile(() => model.predict(images));
        for (const w of model.warnings) printErr(`memlens: warning: ${w}\n`);
      } else {
        const feeds = randomFeeds(model, { batch, dims, inputs, values });
        result = await profile(() => model.run(feeds));
      }
      if (args.json) printOut(JSON.stringify(toJson(result)) + "\n");
      else printOut(renderProfile(result, model.summary.file));
    } finally {
      await model.close();
    }
  },
});

const PROVIDERS: readonly ProviderChoice[] = ["auto", "cpu", "cuda", "webgpu"];

export function providerArg(value: string | undefined): ProviderChoice {
  const v = value ?? "auto";
  if (!(PROVIDERS as readonly string[]).includes(v)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(", ")}, got '${v}'`);
  return v as ProviderChoice;
}

/**
 * Inputs of the shapes the static analysis uses at these settings (--batch, --dim, --input), random
 * where no --value is given: the measured run and the prediction agree on them.
 */
function randomFeeds(model: MemlensModel, opts: { batch: number; dims: Record<string, number>; inputs: Record<string, Dim[]>; values: Record<string, number> }): Record<string, HostTensor> {
  for (const name of [...Object.keys(opts.inputs), ...Object.keys(opts.values)]) {
    if (!model.inputs.some((i) => i.name === name)) throw new UsageError(`the model has no input '${name}' (inputs: ${model.inputs.map((i) => i.name).join(", ")})`);
  }
  const { report } = model.analyze({ batch: opts.batch, dims: opts.dims, inputs: opts.inputs, values: opts.values });
  const feeds: Record<string, HostTensor> = {};
  for (const input of model.inputs) {
    const s = report.settings.inputs[input.name];
    if (!s || s.some((d) => typeof d !== "number")) {
      throw new UsageError(`input '${input.name}' has no concrete shape (${s ? shape(s) : "unknown"}): give it with --input ${input.name}=D0xD1x... or its dims with --dim NAME=N`);
    }
    const type = (input.type ?? "float32") as TensorType;
    const v = opts.values[input.name];
    if (v !== undefined && type.startsWith("float")) throw new UsageError(`--value ${input.name}: the input is ${type}; --value is for integer and bool inputs`);
    feeds[input.name] = randomTensor(type, s as number[], v);
  }
  return feeds;
}

function randomTensor(type: TensorType, dims: number[], value?: number): HostTensor {
  const n = elementCount(dims);
  if (value !== undefined) return filledTensor(type, dims, n, value);
  switch (type) {
    case "float32": {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.random() * 2 - 1;
      return { type, dims, data };
    }
    // Integer inputs are usually token ids or indices: zero is valid for every model.
    case "int64": return { type, dims, data: new BigInt64Array(n) };
    case "int32": return { type, dims, data: new Int32Array(n) };
    case "bool": return { type, dims, data: new Uint8Array(n) };
    case "uint8": return { type, dims, data: new Uint8Array(n) };
    case "float64": return { type, dims, data: new Float64Array(n) };
    default: throw new UsageError(`input type ${type}: random input not supported; give an --image`);
  }
}

/** An integer/bool input with every element `v` (--value). */
function filledTensor(type: TensorType, dims: number[], n: number, v: number): HostTensor {
  switch (type) {
    case "int64": return { type, dims, data: new BigInt64Array(n).fill(BigInt(v)) };
    case "int32": return { type, dims, data: new Int32Array(n).fill(v) };
    case "bool": return { type, dims, data: new Uint8Array(n).fill(v === 0 ? 0 : 1) };
    case "uint8": return { type, dims, data: new Uint8Array(n).fill(v) };
    case "int8": return { type, dims, data: new Int8Array(n).fill(v) };
    default: throw new UsageError(`--value: input type ${type} not supported (int64, int32, int8, uint8, bool)`);
  }
}

/** The `profile --json` contract, with the per-run details added. */
function toJson(r: ProfileResult<unknown>) {
  return {
    layers: r.layers.map((l) => ({
      name: l.name,
      op: l.op,
      measured: l.measured ? { outputBytes: l.measured.outputBytes, ms: l.measured.ms, shapes: l.measured.shapes } : null,
      predicted: l.predicted ? { outputBytes: l.predicted.outputBytes, shapes: l.predicted.shapes } : null,
      agree: l.agree,
      ...(l.reason ? { reason: l.reason } : {}),
      ...(l.parent !== undefined ? { parent: l.parent } : {}),
      ...(r.runs.length > 1 ? { run: l.run } : {}),
    })),
    peakRss: r.peakRss,
    rssBefore: r.rss.before,
    disagreements: r.disagreements,
    runs: r.runs.map((run) => ({ inputs: run.inputShapes, provider: run.provider, ms: run.ms, initMs: run.initMs, disagreements: run.disagreements, ...(run.arena ? { arena: run.arena } : {}) })),
  };
}

function renderProfile(r: ProfileResult<unknown>, file: string): string {
  const lines: string[] = [];
  for (const [i, run] of r.runs.entries()) {
    const inputs = Object.entries(run.inputShapes).map(([k, v]) => `${k} ${shape(v)}`).join(", ");
    lines.push(`${file}: run ${i + 1} on ${run.provider}, ${inputs}, ${run.ms.toFixed(1)} ms (session init ${run.initMs.toFixed(0)} ms)`);
    const rows = run.layers.filter((l) => l.measured || !l.agree);
    const w = Math.min(60, Math.max(4, ...rows.map((l) => 2 * bodyDepth(l.parent) + l.name.length)));
    lines.push(`  ${"layer".padEnd(w)}  ${"op".padEnd(18)} ${"measured shape".padEnd(22)} ${"measured".padStart(10)} ${"predicted".padStart(10)} ${"ms".padStart(8)}`);
    for (const l of rows) {
      // Body nodes sit under their If/Loop/Scan, indented one step per nesting level.
      const label = "  ".repeat(bodyDepth(l.parent)) + l.name;
      const name = label.length > w ? "…" + label.slice(-(w - 1)) : label.padEnd(w);
      const ms = l.measured ? l.measured.ms.toFixed(2) : "-";
      const mshape = l.measured ? l.measured.shapes.map((s) => shape(s)).join(" ") : "-";
      lines.push(`  ${name}  ${l.op.padEnd(18)} ${mshape.padEnd(22)} ${bytes(l.measured?.outputBytes).padStart(10)} ${bytes(l.predicted?.outputBytes).padStart(10)} ${ms.padStart(8)}${l.agree ? "" : `  DIFFERS: ${l.reason}`}`);
    }
  }
  for (const run of r.runs) {
    if (run.arena) lines.push(`onnxruntime arena: ${bytes(run.arena.heldBytes)} held, ${bytes(run.arena.inUsePeakBytes)} in use at its peak`);
  }
  if (r.runs.length === 0) lines.push(`${file}: the profiled call ran no model`);
  lines.push(`${r.layers.length} layers, ${r.disagreements} disagreement${r.disagreements === 1 ? "" : "s"} between measured and predicted output sizes`);
  lines.push(`peak RSS ${bytes(r.peakRss)} (${bytes(r.rss.before)} before the call, +${bytes(r.peakRss - r.rss.before)}; ${r.rss.kernelPeak ? "kernel high-water mark and " : ""}${r.rss.samples} samples)`);
  return lines.join("\n") + "\n";
}
