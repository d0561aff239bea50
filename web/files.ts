/**
 * The files a user drops or chooses, turned into something the core can analyse, in the browser.
 * Nothing here touches node:fs: bytes come from `File` objects. Weights are not read unless the shape
 * engine may need their values (small external tensors), and a safetensors file is read only up to the
 * end of its JSON header, so a 15 GB checkpoint costs a few kilobytes.
 */
import { ModelFormatError } from "../src/errors.js";
import { classify } from "../src/formats/classify.js";
import { openModel } from "../src/formats/index.js";
import type { ModelSource } from "../src/pipeline/source.js";
import { parseJson } from "../src/formats/json.js";
import type { ExternalOpener } from "../src/formats/onnx/values.js";
import { readSafetensorsHeader, MAX_HEADER_BYTES } from "../src/formats/safetensors.js";
import { MemorySource, type ByteSource } from "../src/formats/source.js";
import type { Model } from "../src/graph/ir.js";
import { readGguf } from "../src/formats/gguf.js";
import { describeHub, type LlmSource } from "../src/llm/describe.js";

/** External tensors at most this big are read up front: the shape engine reads values of small constants only. */
const EXTERNAL_PRELOAD_BYTES = 1 << 20;

/** The page's model: a pipeline/source.ts ModelSource, as the CLI opens from a path. */
export type Loaded = ModelSource;

/**
 * `openOnnx` reads an ONNX file lazily where the host can read a File synchronously (a worker); without
 * it the file is read whole into memory first.
 */
export async function loadFiles(files: readonly File[], openOnnx?: (file: File) => ByteSource): Promise<Loaded> {
  // Which file is the model: the same rule as for a path on disk (formats/classify.ts).
  const c = classify(files.map((f) => f.name));
  const file = (name: string): File => files.find((f) => f.name === name)!;
  if (c.kind === "onnx") return loadOnnx(file(c.model), files.filter((f) => f.name !== c.model), openOnnx);
  if (c.kind === "gguf") {
    const gguf = file(c.file);
    const header = await ggufHeader(gguf);
    return { kind: "gguf", file: c.file, header, fileBytes: gguf.size };
  }
  return { kind: "transformer", llm: await loadLlm(file(c.config), c.safetensors.map(file)) };
}

async function loadOnnx(file: File, others: readonly File[], openOnnx?: (file: File) => ByteSource): Promise<Loaded> {
  const source = openOnnx ? openOnnx(file) : new MemorySource(new Uint8Array(await file.arrayBuffer()), file.name);
  const model = openModel(source, file.name);
  const byName = new Map(others.map((f) => [f.name, f]));
  const ranges = new Map<string, { offset: number; bytes: Uint8Array }[]>();
  const sizes = new Map<string, number>();
  const missing = new Set<string>();
  for (const t of model.graph.initializers.values()) {
    if (t.data.kind !== "external") continue;
    // The browser hands over files without folders: a location is matched by its last path segment.
    const f = byName.get(t.data.location.split("/").pop() ?? "");
    if (!f) missing.add(t.data.location);
    if (!f || t.bytes > EXTERNAL_PRELOAD_BYTES) continue;
    const offset = t.data.offset;
    const chunk = new Uint8Array(await f.slice(offset, offset + t.bytes).arrayBuffer());
    ranges.set(t.data.location, [...(ranges.get(t.data.location) ?? []), { offset, bytes: chunk }]);
    sizes.set(t.data.location, f.size);
  }
  const openExternal: ExternalOpener = (location) => {
    const size = sizes.get(location);
    if (size === undefined) throw new ModelFormatError(`external data ${JSON.stringify(location)} was not chosen with the model`);
    return rangesSource(location, size, ranges.get(location) ?? []);
  };
  const warnings = [...missing].map(
    (loc) => `external data ${JSON.stringify(loc)} was not chosen with the model: its weights are counted from the graph, but constants stored there (shape tensors) cannot be read`,
  );
  return { kind: "onnx", model, openExternal, warnings };
}

/** A source that holds only some ranges of a file (read ahead, asynchronously): reads elsewhere fail. */
function rangesSource(name: string, size: number, parts: readonly { offset: number; bytes: Uint8Array }[]): ByteSource {
  return {
    name,
    size,
    read(offset: number, length: number): Uint8Array {
      for (const p of parts) {
        if (offset >= p.offset && offset + length <= p.offset + p.bytes.length) return p.bytes.subarray(offset - p.offset, offset - p.offset + length);
      }
      throw new ModelFormatError(`${name}: bytes [${offset}, +${length}) were not read in the browser (only small tensors are)`);
    },
  };
}

async function loadLlm(config: File, shards: readonly File[]): Promise<LlmSource> {
  if (config.size > 16 << 20) throw new ModelFormatError(`${config.name}: ${config.size} bytes is too large for a config.json`);
  const cfg = parseJson(await config.text(), config.name);
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new ModelFormatError(`${config.name}: not a JSON object`);
  if (shards.length === 0) return describeHub(cfg as Record<string, unknown>, config.name, undefined);
  const tensors = [];
  for (const shard of shards) tensors.push(...(await safetensorsHeader(shard)).tensors);
  return describeHub(cfg as Record<string, unknown>, shards.length === 1 ? shards[0]!.name : config.name, tensors);
}

/** A GGUF header has no length field: read a prefix, and twice as much while the header runs past it. */
const GGUF_FIRST_READ = 4 << 20;
const GGUF_MAX_HEADER = 512 << 20;

class PastPrefix extends Error {}

async function ggufHeader(file: File): Promise<ReturnType<typeof readGguf>> {
  for (let n = GGUF_FIRST_READ; ; n *= 2) {
    const prefix = new Uint8Array(await file.slice(0, Math.min(file.size, n)).arrayBuffer());
    try {
      return readGguf({
        name: file.name,
        size: file.size,
        read(offset: number, length: number): Uint8Array {
          if (offset + length > prefix.length) throw new PastPrefix();
          return prefix.subarray(offset, offset + length);
        },
      });
    } catch (e) {
      if (!(e instanceof PastPrefix) || prefix.length >= file.size) throw e;
      if (n >= GGUF_MAX_HEADER) throw new ModelFormatError(`${file.name}: GGUF header larger than ${GGUF_MAX_HEADER} bytes`);
    }
  }
}

/** Reads the 8-byte length and the JSON header only; the header reader sees the file's real size. */
async function safetensorsHeader(file: File): Promise<ReturnType<typeof readSafetensorsHeader>> {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (head.length < 8) throw new ModelFormatError(`${file.name}: too short for a safetensors file (${file.size} bytes)`);
  const n = Number(new DataView(head.buffer).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new ModelFormatError(`${file.name}: safetensors header of ${n} bytes exceeds ${MAX_HEADER_BYTES}`);
  const prefix = new Uint8Array(await file.slice(0, Math.min(file.size, 8 + n)).arrayBuffer());
  return readSafetensorsHeader({
    name: file.name,
    size: file.size,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || offset + length > prefix.length) throw new RangeError(`read [${offset}, ${offset + length}) past the header`);
      return prefix.subarray(offset, offset + length);
    },
  });
}
