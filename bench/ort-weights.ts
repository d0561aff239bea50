/**
 * Random weights for a weightless fixture: the legacy exports keep every initializer as external data
 * whose file is absent. Memory does not depend on weight values, so a copy of the model folder with
 * random bytes at the recorded offsets lets onnxruntime load and run it (held-out measurements, and
 * the optimized-graph comparison).
 */
import { copyFileSync, closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { loadModelFile } from "../src/formats/load-node.js";

/** Copies MODEL into DIR and writes its external data files there; returns the copy's path. */
export function materializeWeights(modelPath: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, basename(modelPath));
  copyFileSync(modelPath, out);
  const { model, source } = loadModelFile(modelPath);
  try {
    const files = new Map<string, { offset: number; length: number }[]>();
    for (const t of model.graph.initializers.values()) {
      if (t.data.kind !== "external") continue;
      const list = files.get(t.data.location) ?? [];
      list.push({ offset: t.data.offset, length: t.data.length ?? t.bytes });
      files.set(t.data.location, list);
    }
    for (const [location, ranges] of files) {
      const fd = openSync(join(dir, location), "w");
      try {
        for (const r of ranges) {
          // Small random floats: valid fp32 values whatever the dtype's meaning, and no NaN/Inf in fp32 weights.
          const buf = Buffer.alloc(r.length);
          for (let i = 0; i + 4 <= r.length; i += 4) buf.writeFloatLE((Math.random() - 0.5) * 0.1, i);
          writeSync(fd, buf, 0, r.length, r.offset);
        }
      } finally {
        closeSync(fd);
      }
    }
  } finally {
    source.close();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [model, dir] = process.argv.slice(2);
  if (!model || !dir) {
    console.error("usage: node dist/bench/ort-weights.js MODEL.onnx OUTDIR");
    process.exit(1);
  }
  console.log(materializeWeights(model, dir));
}
