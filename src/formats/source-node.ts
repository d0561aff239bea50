import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";
import { ModelFormatError } from "../errors.js";
import { quote } from "./quote.js";
import type { ByteSource } from "./source.js";

/** A file read with pread: only the ranges asked for are ever in memory. */
export class FileSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  private fd: number | null;
  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
    const stat = fstatSync(this.fd);
    if (!stat.isFile()) {
      closeSync(this.fd);
      this.fd = null;
      throw new Error(`${path} is not a regular file`);
    }
    this.size = stat.size;
    this.name = basename(path);
  }
  read(offset: number, length: number): Uint8Array {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of ${this.path} at ${offset + done}`);
      done += n;
    }
    return out;
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * A file opened for each read and closed after it: external data may be spread over thousands of files
 * (one per tensor), and a reader that kept them all open would run out of file descriptors.
 * The size is taken once; a file that shrinks afterwards gives a RangeError on read, never short data.
 */
export class ReopeningFileSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  constructor(readonly path: string) {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    this.size = stat.size;
    this.name = basename(path);
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    let file: FileSource;
    try {
      file = new FileSource(this.path);
    } catch (e) {
      throw new ModelFormatError(`cannot read external data ${quote(this.name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      if (offset + length > file.size) throw new RangeError(`${this.path} shrank to ${file.size} bytes`);
      return file.read(offset, length);
    } finally {
      file.close();
    }
  }
}
