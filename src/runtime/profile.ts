/**
 * `profile(fn)`: run fn with onnxruntime's profiler on for every model run inside it and the process RSS
 * sampled, then put each run's measured per-layer outputs beside the static prediction.
 */
import type { NodeProfile } from "./ort-profile-parse.js";
import { compareRun, type LayerComparison, type RunComparison } from "./compare.js";
import { withRecorder, type RunRecord } from "./profile-context.js";
import { RssSampler, type RssMeasurement } from "./rss.js";

/** onnxruntime's own arena counters, when its build reports them in the profile. */
export interface ArenaStats {
  /** Largest `mem_arena_held` after any node: bytes the arena had reserved. */
  heldBytes: number;
  /** Largest `mem_in_use_peak`: bytes in use at the arena's peak. */
  inUsePeakBytes: number;
}

export interface ProfiledLayer extends LayerComparison {
  /** Which run inside fn (0-based), when fn ran the model more than once. */
  run: number;
}

export interface ProfileResult<T> {
  /** What fn returned. */
  value: T;
  /** Every layer of every run, measured beside predicted. */
  layers: ProfiledLayer[];
  runs: (RunComparison & { provider: string; ms: number; initMs: number; arena?: ArenaStats })[];
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
      const entry: ProfileResult<T>["runs"][number] = { ...compareRun(r.model, r.inputShapes, run, r.inputValues), provider: r.provider, ms: run.durationUs / 1000, initMs: r.profile.initUs / 1000 };
      const arena = arenaStats(run.nodes);
      if (arena) entry.arena = arena;
      runs.push(entry);
    }
  }
  const layers = runs.flatMap((run, i) => run.layers.map((l) => ({ ...l, run: i })));
  return { value, layers, runs, peakRss: rss.peak, rss, disagreements: layers.filter((l) => !l.agree).length, ms };
}

function arenaStats(nodes: readonly NodeProfile[]): ArenaStats | undefined {
  let held: number | undefined;
  let peak: number | undefined;
  for (const n of nodes) {
    if (n.arenaHeld !== undefined) held = Math.max(held ?? 0, n.arenaHeld);
    if (n.arenaInUsePeak !== undefined) peak = Math.max(peak ?? 0, n.arenaInUsePeak);
  }
  return held === undefined && peak === undefined ? undefined : { heldBytes: held ?? 0, inUsePeakBytes: peak ?? 0 };
}
