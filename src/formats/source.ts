/**
 * Random access to a model's bytes. Readers ask for (offset, length) ranges and never for the whole file,
 * so a model with gigabytes of weights is parsed in memory proportional to its graph.
 * Node's file-backed source lives in source-node.ts so that this module stays usable in the browser.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** A human name for messages (the file name). */
  readonly name: string;
  /** Bytes [offset, offset+length). May return a view into a shared buffer: callers must not mutate it. */
  read(offset: number, length: number): Uint8Array;
}

/** A source over bytes already in memory (a browser File's ArrayBuffer, a test's bytes). */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array, readonly name = "<memory>") {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    return this.bytes.subarray(offset, offset + length);
  }
}
