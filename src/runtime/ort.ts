/**
 * The one module that talks to onnxruntime-node. It is imported lazily (`await import`), so analysing a
 * model never loads the native runtime. Everything else in memlens uses the small types defined here.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type * as Ort from "onnxruntime-node";
import { InputError, ModelFormatError } from "../errors.js";
import { parseOrtProfile, type ParsedProfile } from "./ort-profile-parse.js";

export { parseOrtProfile, ortTypeToShort } from "./ort-profile-parse.js";
export type { NodeProfile, ParsedProfile, ProfiledOutput, ProfiledRun } from "./ort-profile-parse.js";

export type TensorType = "float32" | "float16" | "float64" | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "bool";
export type TypedData = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A tensor in host memory: what goes into and comes out of a run. */
export interface HostTensor {
  type: TensorType;
  dims: readonly number[];
  data: TypedData;
}

export type OptimizationLevel = "disabled" | "basic" | "extended" | "layout" | "all";
/** `auto`: CUDA when onnxruntime-node's CUDA provider is installed, else CPU. */
export type ProviderChoice = "auto" | "cpu" | "cuda" | "webgpu";

export interface SessionOptions {
  optimization?: OptimizationLevel;
  /** Turn the profiler on; its JSON goes to a fresh temporary folder, read back by `endProfiling`. */
  profiling?: boolean;
  intraOpThreads?: number;
  enableMemPattern?: boolean;
  /** Side files given as bytes, keyed by the `location` the model writes (used for random weights). */
  externalData?: { path: string; data: Uint8Array }[];
  provider?: ProviderChoice;
  /** Write the graph onnxruntime runs after its optimizations here. */
  optimizedModelPath?: string;
}

export interface IoInfo {
  name: string;
  type: string | undefined;
  /** Numbers, or symbol names for free dimensions. */
  shape: (number | string)[] | undefined;
}

export interface RuntimeSession {
  readonly inputs: IoInfo[];
  readonly outputs: IoInfo[];
  /** The provider the session really uses (after any fallback). */
  readonly provider: "cpu" | "cuda" | "webgpu";
  /** Why a requested provider was not used, when one was not. */
  readonly notes: string[];
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /** Stop profiling and return the parsed profile (profiling sessions only). */
  endProfiling(): ParsedProfile;
  release(): Promise<void>;
}

type OrtModule = typeof Ort;
let ortPromise: Promise<OrtModule> | undefined;

export function loadOrt(): Promise<OrtModule> {
  // onnxruntime-node 1.30's Linux build starts Microsoft's telemetry SDK with the first session: it writes
  // `.ses` and `mat-debug-PID.log` into the temporary folder (never removed) and would send events. memlens
  // keeps models and their runs on the machine, so it is off unless the user set ORT_DISABLE_TELEMETRY.
  process.env["ORT_DISABLE_TELEMETRY"] ??= "1";
  ortPromise ??= import("onnxruntime-node").then((ort) => {
    // The environment's logger too (it is created with the first session, at this level).
    ort.env.logLevel = "fatal";
    return ort;
  });
  return ortPromise;
}

/** onnxruntime-node ships the CUDA provider only when its install script downloaded it (we skip that). */
export function cudaProviderInstalled(): boolean {
  try {
    const req = createRequire(import.meta.url);
    const root = dirname(dirname(req.resolve("onnxruntime-node")));
    const bin = join(root, "bin");
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(join(dir, "libonnxruntime_providers_cuda.so")) || existsSync(join(dir, "onnxruntime_providers_cuda.dll"))) return true;
    }
  } catch {
    return false;
  }
  return false;
}

function providerPlan(choice: ProviderChoice): { order: ("cpu" | "cuda" | "webgpu")[]; notes: string[] } {
  const notes: string[] = [];
  if (choice === "cpu") return { order: ["cpu"], notes };
  if (choice === "auto") return { order: cudaProviderInstalled() ? ["cuda", "cpu"] : ["cpu"], notes };
  if (choice === "cuda" && !cudaProviderInstalled()) {
    notes.push("CUDA provider not installed with onnxruntime-node (install skipped its download): using CPU");
    return { order: ["cpu"], notes };
  }
  return { order: [choice, "cpu"], notes };
}

export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<RuntimeSession> {
  const ort = await loadOrt();
  const { order, notes } = providerPlan(opts.provider ?? "auto");
  const profileDir = opts.profiling ? mkdtempSync(join(tmpdir(), "memlens-ort-profile-")) : undefined;
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.optimization ?? "all",
    // Fatal only: onnxruntime's own coloured `[E:onnxruntime...]` lines would reach stderr before memlens's
    // one line; every error it has also comes back as the exception that line is made from.
    logSeverityLevel: 4,
  };
  if (opts.intraOpThreads !== undefined) base.intraOpNumThreads = opts.intraOpThreads;
  if (opts.enableMemPattern !== undefined) base.enableMemPattern = opts.enableMemPattern;
  if (opts.externalData) base.externalData = opts.externalData;
  if (opts.optimizedModelPath) base.optimizedModelFilePath = opts.optimizedModelPath;
  if (profileDir) {
    base.enableProfiling = true;
    base.profileFilePrefix = join(profileDir, "ort");
  }
  let lastError: unknown;
  for (const provider of order) {
    try {
      const options = { ...base, executionProviders: [provider] };
      const session = typeof model === "string"
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
      return wrap(ort, session, provider, notes, profileDir);
    } catch (e) {
      lastError = e;
      if (provider !== "cpu") notes.push(`${provider} provider failed (${firstLine(e)}): using CPU`);
    }
  }
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  throw new ModelFormatError(`onnxruntime could not load the model: ${firstLine(lastError)}`);
}

function wrap(
  ort: OrtModule,
  session: Ort.InferenceSession,
  provider: "cpu" | "cuda" | "webgpu",
  notes: string[],
  profileDir: string | undefined,
): RuntimeSession {
  const io = (names: readonly string[], meta: readonly Ort.InferenceSession.ValueMetadata[]): IoInfo[] =>
    names.map((name, i) => {
      const m = meta[i];
      return m && m.isTensor ? { name, type: m.type, shape: [...m.shape] } : { name, type: undefined, shape: undefined };
    });
  return {
    inputs: io(session.inputNames, session.inputMetadata),
    outputs: io(session.outputNames, session.outputMetadata),
    provider,
    notes,
    async run(feeds) {
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
      let out: Ort.InferenceSession.ReturnType;
      try {
        out = await session.run(ortFeeds);
      } catch (e) {
        throw new InputError(`onnxruntime run failed: ${firstLine(e)}`);
      }
      const result: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = { type: t.type as TensorType, dims: t.dims, data: t.data as TypedData };
      }
      return result;
    },
    endProfiling() {
      if (!profileDir) throw new Error("endProfiling: this session was created without profiling");
      session.endProfiling();
      const files = readdirSync(profileDir).filter((f) => f.endsWith(".json"));
      if (files.length === 0) throw new Error(`onnxruntime wrote no profile in ${profileDir}`);
      const parsed = parseOrtProfile(readFileSync(join(profileDir, files.sort().at(-1)!), "utf8"));
      rmSync(profileDir, { recursive: true, force: true });
      return parsed;
    },
    async release() {
      await session.release();
      if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/**
 * Write the graph onnxruntime actually runs (after its fusions at `level`) to `outPath`: the ORT memory
 * model analyses that file. CPU provider, so the result does not depend on the machine.
 */
export async function writeOptimizedModel(
  modelPath: string,
  outPath: string,
  level: OptimizationLevel = "all",
  externalData?: { path: string; data: Uint8Array }[],
): Promise<void> {
  const opts: SessionOptions = { optimization: level, optimizedModelPath: outPath, provider: "cpu" };
  if (externalData) opts.externalData = externalData;
  const session = await createSession(modelPath, opts);
  await session.release();
}

export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0]!.slice(0, 300);
}
