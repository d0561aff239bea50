/**
 * The analysis worker: the engine, with ONNX files read lazily through FileReaderSync (only the graph's
 * bytes, a 1 MiB window at a time; weights are skipped, never read), off the page's main thread.
 */
import { ModelFormatError } from "../src/errors.js";
import type { ByteSource } from "../src/formats/source.js";
import { createEngine, type EngineReply, type EngineRequest } from "./engine.js";

/** A File read on demand. FileReaderSync exists only in workers. */
function fileSource(file: File): ByteSource {
  const reader = new FileReaderSync();
  return {
    name: file.name,
    size: file.size,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || length < 0 || offset + length > file.size) throw new RangeError(`read [${offset}, ${offset + length}) outside ${file.size} bytes`);
      const bytes = new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
      if (bytes.length !== length) throw new ModelFormatError(`${file.name}: short read at ${offset} (the file changed?)`);
      return bytes;
    },
  };
}

const scope = self as unknown as { postMessage(m: EngineReply): void; onmessage: ((e: MessageEvent<EngineRequest>) => void) | null };
const handle = createEngine((reply) => scope.postMessage(reply), fileSource);
scope.onmessage = (e) => void handle(e.data);
