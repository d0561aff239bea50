import { closeSync } from "node:fs";
import { basename } from "node:path";
import { MemlensError, ModelFormatError } from "../errors.js";
import { quote } from "./quote.js";
import { openRegularFile, readRange } from "./read-file.js";
import type { ByteSource } from "./source.js";

/**
 * A file read with pread: only the ranges asked for are ever in memory. Only a regular file opens
 * (read-file.ts: fstat on the descriptor; FIFOs, devices and directories are an InputError).
 */
export class FileSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  private fd: number | null;
  constructor(readonly path: string, what = "file") {
    const opened = openRegularFile(path, what);
    this.fd = opened.fd;
    this.size = opened.size;
    this.name = basename(path);
  }
  read(offset: number, length: number): Uint8Array {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    return readRange(this.fd, offset, length, this.path);
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
    const file = new FileSource(path, "external data");
    this.size = file.size;
    file.close();
    this.name = basename(path);
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${this.size} bytes`);
    }
    let file: FileSource;
    try {
      file = new FileSource(this.path, "external data");
    } catch (e) {
      if (e instanceof MemlensError) throw new ModelFormatError(e.message);
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
