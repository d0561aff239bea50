/**
 * A loaded model as the seed's API sees it: predict on images (onnxruntime), its layers with their
 * predicted shapes and sizes (the static analysis), its memory report, and save(path). Analysis results are
 * cached per settings; the onnxruntime session is created on the first run. A model is read from a file
 * (load) or held in memory (a quantized model, src/quantize/model.ts): onnxruntime then gets its bytes.
 */
import { analyzeModel, summarizeModel, type Analysis, type AnalyzeOptions } from "../analyze.js";
import { InputError, ModelFormatError } from "../errors.js";
import { loadModelFile } from "../formats/load-node.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import { encodeModel } from "../formats/onnx/writer.js";
import type { Model } from "../graph/ir.js";
import { checkSaveTarget, onnxInputFiles, saveModel, type SaveOptions } from "../quantize/save.js";
import type { ModelSummary, Report } from "../contract/report.js";
import { dimToString } from "../sym/expr.js";
import { fitImage, type LoadedImage } from "./image.js";
import { createSession, type HostTensor, type ProviderChoice, type RuntimeSession } from "./ort.js";
import { imageSpecFor, packBatch, type ImageSpec, type InputDescription, type PreprocessOptions } from "./preprocess.js";
import { assumptionWarning, metadataFor, resolvePreprocessing, META_LABELS, META_PREPROCESS, type ExplicitPreprocessing, type ResolvedPreprocessing } from "./preprocessing.js";
import { activeRecorder } from "./profile-context.js";
import { absentExternalFiles, randomExternalData, type ExternalBytes } from "./random-weights.js";
import type { Sidecar } from "./sidecar.js";
import { topK, type Scored } from "./topk.js";
import { elementCount } from "../graph/element-count.js";

export interface LoadModelOptions {
  /** Fill initializers whose external data file is absent with random values (in memory). */
  randomWeights?: boolean;
  /** onnxruntime execution provider; `auto` (default) uses CUDA where installed, else CPU. */
  provider?: ProviderChoice;
  intraOpThreads?: number;
  /**
   * Preprocessing stated by the caller (a preset and/or values): wins over the sidecar and the file's
   * metadata_props, value by value (docs/preprocessing.md).
   */
  preprocess?: ExplicitPreprocessing;
  /** Class names, index by index: win over the sidecar's and the file's. */
  labels?: string[];
  /** How stated values are named in messages (default "options"; the CLI names its flags). */
  statedBy?: string;
}

/** Where a model's bytes are: its file, or in memory (derived models) with the file their weights come from. */
export interface ModelOrigin {
  graph: Model;
  /** The file the graph was read from; undefined for a model held in memory. */
  path?: string;
  /** The file this model was derived from (its external weights live beside it; save never writes over it). */
  sourcePath?: string;
  fileBytes?: number;
  openExternal?: ExternalOpener;
  preprocessing: ResolvedPreprocessing;
  /** Every file the model was read from (model, external data, sidecars): save never writes over one. */
  inputFiles?: readonly string[];
}

export interface PredictOptions {
  /** How many classes to return per image (default 5). */
  top?: number;
  /** Include every output, sliced per image. */
  raw?: boolean;
}

export interface Prediction {
  file: string;
  top: Scored[];
  raw?: Record<string, HostTensor>;
}

export interface SizeOptions {
  batch?: number;
  dims?: Record<string, number>;
}

export interface ModelLayer {
  name: string;
  op: string;
  /** Output shapes at these settings (a string for a dim that stays symbolic), null when unknown. */
  outputShapes(opts?: SizeOptions): ((number | string)[] | null)[];
  /** Bytes of this layer's outputs at these settings; null when a shape is unknown. */
  activationSize(opts?: SizeOptions): number | null;
}

export interface MemoryOptions extends SizeOptions, Pick<AnalyzeOptions, "optimizer" | "cudnnBenchmark" | "cudaModuleLoading"> {
  runtime?: string;
  device?: string;
  dtype?: string;
  mode?: string;
}

export class MemlensModel {
  readonly summary: ModelSummary;
  /** The file the model was read from; undefined for a model held in memory until it is saved. */
  readonly path: string | undefined;
  readonly graph: Model;
  /** Size of the file it was read from, when it was. */
  readonly fileBytes: number | undefined;
  /** Reads the model's external weights (for tools that rewrite the model, such as quantize). */
  readonly openExternal: ExternalOpener | undefined;
  /** Preprocessing and labels as stated by options, sidecar or metadata_props, with where each came from. */
  readonly preprocessing: ResolvedPreprocessing;
  readonly sidecar: Sidecar | undefined;
  readonly labels: string[] | undefined;
  /** The model's graph inputs (initializers excluded). */
  readonly inputs: InputDescription[];
  private readonly sourcePath: string | undefined;
  /** Every file the model was read from (model, external data, sidecars): save never writes over one. */
  readonly inputFiles: readonly string[];
  private readonly noted = new Set<string>();
  private session: RuntimeSession | undefined;
  private readonly analyses = new Map<string, Analysis>();
  private layerList: ModelLayer[] | undefined;

  protected constructor(
    origin: ModelOrigin,
    private readonly externalData: ExternalBytes[] | undefined,
    protected readonly options: LoadModelOptions,
  ) {
    const graph = origin.graph;
    this.graph = graph;
    this.path = origin.path;
    this.sourcePath = origin.sourcePath ?? origin.path;
    this.inputFiles = origin.inputFiles ?? (this.sourcePath !== undefined ? onnxInputFiles(this.sourcePath, graph) : []);
    this.fileBytes = origin.fileBytes;
    this.openExternal = origin.openExternal;
    this.preprocessing = origin.preprocessing;
    this.summary = summarizeModel(graph);
    this.sidecar = this.preprocessing.sidecar;
    this.labels = this.preprocessing.labels;
    this.inputs = graph.graph.inputs
      .filter((v) => !graph.graph.initializers.has(v.name))
      .map((v) => ({
        name: v.name,
        type: v.type.kind === "tensor" ? v.type.dtype : undefined,
        shape: v.type.kind === "tensor" && v.type.shape ? v.type.shape.map((d) => (typeof d === "number" ? d : dimToString(d))) : undefined,
      }));
  }

  static load(path: string, options: LoadModelOptions = {}): MemlensModel {
    const loaded = loadModelFile(path);
    const external = options.randomWeights ? randomExternalData(loaded.model, path).files : undefined;
    const preprocessing = resolvePreprocessing({
      modelPath: path,
      metadata: loaded.model.metadata,
      ...(options.preprocess ? { explicit: options.preprocess } : {}),
      ...(options.labels ? { explicitLabels: options.labels } : {}),
      ...(options.statedBy ? { explicitName: options.statedBy } : {}),
    });
    return new MemlensModel({ graph: loaded.model, path, fileBytes: loaded.source.size, openExternal: loaded.openExternal, preprocessing }, external, options);
  }

  /**
   * What is worth telling the user before trusting a prediction: preprocessing values no source stated (one
   * warning naming each), labels that do not match the classes. Empty for a model that takes no image.
   */
  get warnings(): string[] {
    const noted = [...this.noted];
    try {
      this.imageSpec(); // a model that takes no image has no preprocessing to warn about
    } catch {
      return noted;
    }
    const w = assumptionWarning(this.preprocessing, this.summary.file, this.inputs[0]!);
    return w ? [w, ...noted] : noted;
  }

  /** The preprocessing in use, in one line: values and where they came from. */
  describePreprocessing(opts: PreprocessOptions = {}): string {
    const s = this.imageSpec(opts);
    const o = this.preprocessing.origin;
    const num = (x: number) => (Math.abs(x - 1 / 255) < 1e-12 ? "1/255" : String(Number(x.toPrecision(8))));
    const list = (v: number[]) => (v.every((x) => x === v[0]) ? num(v[0]!) : `[${v.map(num).join(", ")}]`);
    const from = (f: keyof typeof o) => ` (${o[f] ?? "assumed"})`;
    const resize = s.crop !== undefined ? `, other sizes: shorter side to ${Math.round(Math.min(s.height, s.width) / s.crop)} then centre crop, ${s.interpolation ?? "bilinear"}${from("crop")}` : "";
    const labels = this.labels ? `${this.labels.length} labels${from("labels")}` : "no labels";
    return `${s.height}x${s.width} ${s.layout}${o.layout ? from("layout") : " (input shape)"}, scale ${num(s.scale)}${from("scale")}, mean ${list(s.mean)}${from("mean")}, std ${list(s.std)}${from("std")}${resize}; ${labels}`;
  }

  /**
   * Write the model to `path` (atomically: a temporary file renamed into place), with its preprocessing and labels
   * in metadata_props, so the file predicts the same wherever it is copied. Never over the file it came from.
   * Returns the bytes written.
   */
  save(path: string, options: SaveOptions = {}): number {
    return saveModel(this.withMetadata(), path, this.sourcePath, this.openExternal, { inputs: this.inputFiles, ...options });
  }

  /** Throws the error save(path) would for this target (an input, a missing folder, read-only), before any work. */
  checkSaveTarget(path: string, options: SaveOptions = {}): void {
    checkSaveTarget(path, this.graph, this.sourcePath, { inputs: this.inputFiles, ...options });
  }

  /** The graph as save() writes it: the stated preprocessing and labels in metadata_props. */
  withMetadata(): Model {
    const metadata = { ...this.graph.metadata };
    delete metadata[META_PREPROCESS];
    delete metadata[META_LABELS];
    Object.assign(metadata, metadataFor(this.preprocessing));
    return { ...this.graph, metadata };
  }

  /** How onnxruntime runs this model (provider, threads): a model derived from it runs the same way. */
  get runOptions(): Pick<LoadModelOptions, "provider" | "intraOpThreads"> {
    const { provider, intraOpThreads } = this.options;
    return { ...(provider ? { provider } : {}), ...(intraOpThreads !== undefined ? { intraOpThreads } : {}) };
  }

  /** The static analysis at these settings (cached). */
  analyze(opts: AnalyzeOptions = {}): Analysis {
    const { openExternal: _ignored, ...key } = opts;
    const k = JSON.stringify(key);
    let a = this.analyses.get(k);
    if (!a) {
      a = analyzeModel(this.graph, { ...opts, ...(this.openExternal ? { openExternal: this.openExternal } : {}) });
      this.analyses.set(k, a);
    }
    return a;
  }

  /** Every node, in execution order, with its predicted output shapes and sizes. */
  get layers(): ModelLayer[] {
    if (!this.layerList) {
      const base = this.analyze({ batch: 1 }).report.layers;
      this.layerList = base.map((l, i) => {
        const at = (opts: SizeOptions = {}) => this.analyze(sizeKey(opts)).report.layers[i];
        return {
          name: l.name,
          op: l.op,
          outputShapes: (opts) => (at(opts)?.outputs ?? []).map((o) => o.shape),
          activationSize: (opts) => {
            const outs = at(opts)?.outputs ?? [];
            let sum = 0;
            for (const o of outs) {
              if (o.name === "") continue;
              if (o.bytes === null) return null;
              sum += o.bytes;
            }
            return sum;
          },
        };
      });
    }
    return this.layerList;
  }

  /** The memory report: the runtime profile's estimate (`memory`, `timeline`) at these settings. */
  memory(opts: MemoryOptions = {}): Report {
    return this.analyze({ ...sizeKey(opts), ...pick(opts, ["runtime", "device", "dtype", "mode", "optimizer", "cudnnBenchmark", "cudaModuleLoading"]), memory: true }).report;
  }

  /** The image input this model takes, with the sidecar's preprocessing and these overrides. */
  imageSpec(opts: PreprocessOptions = {}): ImageSpec {
    return imageSpecFor(this.inputs, this.preprocessing.spec, opts, this.preprocessing.fallbackSize);
  }

  /** The provider the session uses and why a requested one was not used; undefined before the first run. */
  get runtime(): { provider: string; notes: string[] } | undefined {
    return this.session ? { provider: this.session.provider, notes: this.session.notes } : undefined;
  }

  /** Run the model on tensors. Inside `profile(fn)`, the run is profiled (a fresh profiling session). */
  async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const recorder = activeRecorder();
    if (!recorder) {
      this.session ??= await this.createSession(false);
      return this.session.run(feeds);
    }
    const session = await this.createSession(true);
    try {
      const out = await session.run(feeds);
      const inputShapes = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, [...t.dims]]));
      recorder.record({ model: this.graph, inputShapes, inputValues: uniformIntegerValues(feeds), profile: session.endProfiling(), provider: session.provider });
      return out;
    } finally {
      await session.release();
    }
  }

  predict(image: LoadedImage, opts?: PredictOptions): Promise<Prediction>;
  predict(images: readonly LoadedImage[], opts?: PredictOptions): Promise<Prediction[]>;
  async predict(what: LoadedImage | readonly LoadedImage[], opts: PredictOptions = {}): Promise<Prediction | Prediction[]> {
    const images = isImageArray(what) ? what : [what];
    if (images.length === 0) return [];
    // Random weights make a runnable architecture, never a prediction: predict names only what is missing.
    const absent = this.externalData || !this.sourcePath ? [] : absentExternalFiles(this.graph, this.sourcePath);
    if (absent.length > 0) throw new ModelFormatError(`${this.summary.file}: weights file '${absent[0]}' is missing: predictions need the model's trained weights`);
    const spec = this.imageSpec(images[0]!.options);
    const fitted = await Promise.all(images.map((img) => fitImage(img, spec)));
    const batch = packBatch(fitted, spec, images.map((i) => i.file));
    const outputs = await this.run({ [spec.input]: batch });
    const predictions = this.toPredictions(outputs, images, opts);
    return isImageArray(what) ? predictions : predictions[0]!;
  }

  private toPredictions(outputs: Record<string, HostTensor>, images: readonly LoadedImage[], opts: PredictOptions): Prediction[] {
    const n = images.length;
    const first = Object.values(outputs)[0];
    const top = opts.top ?? 5;
    return images.map((img, i) => {
      const p: Prediction = { file: img.file, top: [] };
      if (first && first.dims.length === 2 && first.dims[0] === n && first.data instanceof Float32Array) {
        const k = first.dims[1]!;
        const labels = this.labels && this.labels.length === k ? this.labels : undefined;
        if (this.labels && !labels) this.noted.add(`${this.labels.length} labels (${this.preprocessing.origin.labels}) for ${k} classes: classes print as indices`);
        p.top = topK(first.data.subarray(i * k, (i + 1) * k), top, labels);
      }
      if (opts.raw) {
        p.raw = {};
        for (const [name, t] of Object.entries(outputs)) {
          if (t.dims[0] !== n) {
            p.raw[name] = t;
            continue;
          }
          const per = elementCount(t.dims.slice(1));
          p.raw[name] = { type: t.type, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(i * per, (i + 1) * per) };
        }
      }
      return p;
    });
  }

  private async createSession(profiling: boolean): Promise<RuntimeSession> {
    if (!this.externalData && this.sourcePath) {
      const absent = absentExternalFiles(this.graph, this.sourcePath);
      if (absent.length > 0) {
        throw new ModelFormatError(`${this.summary.file}: weights file '${absent[0]}' is missing; to run the architecture anyway, load it with randomWeights (library) or give profile --random-weights`);
      }
    }
    // A model held in memory goes to onnxruntime as bytes, its external weights embedded.
    const bytes = this.path === undefined ? encodeModel(this.graph, this.openExternal ? { externalData: "embed", openExternal: this.openExternal } : {}) : undefined;
    return createSession(bytes ?? this.path!, {
      // Profiling runs the graph as written so that node names and sizes match the static prediction.
      optimization: profiling ? "disabled" : "all",
      profiling,
      provider: this.options.provider ?? "auto",
      ...(this.options.intraOpThreads !== undefined ? { intraOpThreads: this.options.intraOpThreads } : {}),
      ...(this.externalData ? { externalData: this.externalData } : {}),
    });
  }

  async close(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}

function isImageArray(x: LoadedImage | readonly LoadedImage[]): x is readonly LoadedImage[] {
  return Array.isArray(x);
}

/** Small integer/bool feeds whose elements are all one value (`sr` = 16000), as `--value` states them. */
function uniformIntegerValues(feeds: Record<string, HostTensor>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(feeds)) {
    if (t.type.startsWith("float") || t.data.length === 0 || t.data.length > 64) continue;
    const first = Number(t.data[0]);
    if (Array.prototype.every.call(t.data, (x: number | bigint) => Number(x) === first)) out[name] = first;
  }
  return out;
}

function sizeKey(opts: SizeOptions): AnalyzeOptions {
  const o: AnalyzeOptions = {};
  if (opts.batch !== undefined) {
    if (!Number.isSafeInteger(opts.batch) || opts.batch < 1) throw new InputError(`batch must be a positive integer, got ${opts.batch}`);
    o.batch = opts.batch;
  }
  if (opts.dims) o.dims = opts.dims;
  return o;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
