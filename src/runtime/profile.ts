/**
 * `profile(fn)`: run fn with onnxruntime's profiler on for every model run inside it and the process RSS
 * sampled, then put each run's measured per-layer outputs beside the static prediction.
 */
import { compareRun, type LayerComparison, type RunComparison } from "./compare.js";
import { withRecorder, type RunRecord } from "./profile-context.js";
import { RssSampler, type RssMeasurement } from "./rss.js";

export interface ProfiledLayer extends LayerComparison {
  /** Which run inside fn (0-based), when fn ran the model more than once. */
  run: number;
}

export interface ProfileResult<T> {
  /** What fn returned. */
  value: T;
  /** Every layer of every run, measured beside predicted. */
  layers: ProfiledLayer[];
  runs: (RunComparison & { provider: string; ms: number; initMs: number })[];
  /** Highest process RSS during fn, bytes. */
  peakRss: number;
  rss: RssMeasurement;
  disagreements: number;
  ms: number;
}

export async function profile<T>(fn: () => T | Promise<T>): Promise<ProfileResult<T>> {
  const records: RunRecord[] = [];
  const sampler = new RssSampler();
  await sampler.start();
  const t0 = performance.now();
  let value: T;
  try {
    value = await withRecorder({ record: (r) => records.push(r) }, () => Promise.resolve(fn()));
  } catch (e) {
    await sampler.stop();
    throw e;
  }
  const rss = await sampler.stop();
  const ms = performance.now() - t0;
  const runs: ProfileResult<T>["runs"] = [];
  for (const r of records) {
    // One profiling session per model run, so each parsed profile holds one model_run.
    for (const run of r.profile.runs) {
      runs.push({ ...compareRun(r.model, r.inputShapes, run), provider: r.provider, ms: run.durationUs / 1000, initMs: r.profile.initUs / 1000 });
    }
  }
  const layers = runs.flatMap((run, i) => run.layers.map((l) => ({ ...l, run: i })));
  return { value, layers, runs, peakRss: rss.peak, rss, disagreements: layers.filter((l) => !l.agree).length, ms };
}
