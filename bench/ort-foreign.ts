/**
 * The foreign fixtures (bench/fixtures/foreign: real models from other exporters, weights zeroed, gzipped)
 * as files to analyse: each unzipped once into a temporary folder, removed on close().
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipForeign } from "./ort-measure.js";

export class ForeignFiles {
  private dir: string | undefined;
  private readonly files = new Map<string, string>();

  /** The unzipped model file of fixture `name` (e.g. "silero_vad_v5.onnx"). */
  path(name: string): string {
    const known = this.files.get(name);
    if (known) return known;
    this.dir ??= mkdtempSync(join(tmpdir(), "memlens-foreign-"));
    const file = unzipForeign(name, this.dir);
    this.files.set(name, file);
    return file;
  }

  close(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.files.clear();
  }
}
