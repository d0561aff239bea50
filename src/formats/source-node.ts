import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
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
