/**
 * Reading a file safely (Node only): the one place every input file is opened (model, external data,
 * config.json, safetensors, sidecar JSON, labels, images).
 *
 * - The path is opened first and the descriptor checked with fstat, never a stat-then-open race: what is
 *   read is what was checked.
 * - Only a regular file is read. open() follows symbolic links, so a link is judged by its target; a FIFO,
 *   a character or block device (/dev/zero), a socket or a directory is refused with one line.
 * - The open is non-blocking: opening a FIFO for reading otherwise blocks until a writer appears (forever).
 *   For a regular file O_NONBLOCK changes nothing (POSIX open(2)).
 * - The size is checked against the caller's limit before a byte is read, and only that many bytes are read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { InputError } from "../errors.js";

/** O_NONBLOCK is POSIX; where it does not exist (Windows) FIFOs do not either. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** What a non-regular file is, for the message. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isDirectory()) return "a directory";
  return "not a regular file";
}

export interface OpenedFile {
  fd: number;
  size: number;
}

/**
 * Open `path` for reading, refusing anything but a regular file (after following links). `what` names the
 * file in messages ("config.json", "image"). Errors are InputError (exit 2); the caller owns the descriptor.
 */
export function openRegularFile(path: string, what = "file"): OpenedFile {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A socket can not be opened (ENXIO); say what it is rather than the errno.
    throw new InputError(`cannot read ${what} ${path}: ${code === "ENXIO" ? "a socket or a device without a reader" : (code ?? (e as Error).message)}`);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(`cannot read ${what} ${path}: it is ${fileKind(st)}, not a regular file`);
  }
  return { fd, size: st.size };
}

/** Read [offset, offset + length) of an open file; a file that ends early is a RangeError, never short data. */
export function readRange(fd: number, offset: number, length: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, offset + done);
    if (n === 0) throw new RangeError(`unexpected end of ${path} at ${offset + done}`);
    done += n;
  }
  return out;
}

/**
 * The whole of a regular file of at most `maxBytes`: refused (InputError) when it is not a regular file or is
 * larger, before anything is read.
 */
export function readRegularFile(path: string, maxBytes: number, what = "file"): Uint8Array {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > maxBytes) throw new InputError(`cannot read ${what} ${path}: ${size} bytes is more than the ${maxBytes} a ${what} may have`);
    try {
      return readRange(fd, 0, size, path);
    } catch (e) {
      if (e instanceof RangeError) throw new InputError(`cannot read ${what} ${path}: it shrank while being read`);
      throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** readRegularFile as UTF-8 text. */
export function readRegularText(path: string, maxBytes: number, what = "file"): string {
  return new TextDecoder().decode(readRegularFile(path, maxBytes, what));
}
