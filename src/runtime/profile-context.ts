/**
 * How a running `profile(fn)` learns about the model runs inside fn: fn's async context carries a
 * recorder, and a model's `run` hands each profiled run to it. No global state leaks between profiles.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Model } from "../graph/ir.js";
import type { ParsedProfile } from "./ort-profile-parse.js";

export interface RunRecord {
  /** The model as memlens read it: the static prediction is made from this. */
  model: Model;
  /** The shape of every input fed to the run. */
  inputShapes: Record<string, number[]>;
  /** Integer and bool inputs whose elements all hold one value (silero's sr): the prediction uses it. */
  inputValues: Record<string, number>;
  profile: ParsedProfile;
  provider: string;
}

export interface Recorder {
  record(run: RunRecord): void;
}

const storage = new AsyncLocalStorage<Recorder>();

export function activeRecorder(): Recorder | undefined {
  return storage.getStore();
}

export function withRecorder<T>(recorder: Recorder, fn: () => T): T {
  return storage.run(recorder, fn);
}
