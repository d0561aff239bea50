/**
 * Every file memlens writes (an HTML report, a JSON report, a model) goes through here, so no output can land
 * on an input and none is ever half-written:
 * - the target is checked before any work: its folder must exist, and it must not be any file the run read
 *   (model, external data, sidecar, config.json, shards), compared by device and inode after following
 *   symlinks, so a symlink or a hard link to an input is refused like the input itself;
 * - a read-only target is refused unless the caller forces it (and then keeps its mode);
 * - the bytes go to a temporary file in the target's folder (same filesystem, so the rename is atomic), are
 *   flushed, and the file is renamed into place; a SIGINT or SIGTERM while a temporary file exists removes it
 *   first, and one left by a killed run (SIGKILL) is removed by the next write to the same target.
 */
import { closeSync, fchmodSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";

export interface OutputOptions {
  /** How the user named the target, for messages: "--html", "--json", "-o". */
  flag: string;
  /** Every file the run reads: the output may be none of them. Missing ones are skipped. */
  inputs: readonly string[];
  /** Replace a read-only target. */
  force?: boolean;
}

const fileId = (s: Stats): string => `${s.dev}:${s.ino}`;

function statOrUndefined(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Refuse a target that is an input (by device+inode, links followed), a folder, in a missing folder, or
 * read-only without `force`. Throws UsageError naming the target as the user wrote it.
 */
export function checkOutput(out: string, opts: OutputOptions): void {
  const say = (why: string) => new UsageError(`${opts.flag} ${out}: ${why}`);
  if (out === "" || out.endsWith("/")) throw say("expected a file name");
  const folder = dirname(resolve(out));
  const dir = statOrUndefined(folder, true);
  if (!dir) throw say(`folder ${dirname(out)} does not exist`);
  if (!dir.isDirectory()) throw say(`${dirname(out)} is not a folder`);
  const link = statOrUndefined(out, false);
  const target = statOrUndefined(out, true);
  const inputIds = new Map<string, string>();
  for (const input of opts.inputs) {
    const s = statOrUndefined(input, true);
    if (s) inputIds.set(fileId(s), input);
  }
  for (const s of [link, target]) {
    const input = s && inputIds.get(fileId(s));
    if (input !== undefined) {
      const same = resolve(input) === resolve(out) ? "that is" : "that is the same file as";
      throw say(`${same} the input ${input}; refusing to write over it`);
    }
  }
  if (link?.isSymbolicLink() && !target) throw say("is a dangling symbolic link; refusing to replace it");
  if (target && !target.isFile()) throw say(target.isDirectory() ? "is a folder" : "is not a regular file");
  if (target && (target.mode & 0o222) === 0 && !opts.force) throw say("is read-only; --force replaces it");
}

/** Temporary files that exist now, removed if the process is interrupted. */
const pending = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of pending) rmSync(tmp, { force: true });
  pending.clear();
  uninstall();
  // Die of the signal, as the default disposition would (exit status 128 + signal number).
  process.kill(process.pid, signal);
}

function uninstall(): void {
  if (!handlersInstalled) return;
  for (const s of SIGNALS) process.off(s, onSignal);
  handlersInstalled = false;
}

function install(): void {
  if (handlersInstalled) return;
  for (const s of SIGNALS) process.on(s, onSignal);
  handlersInstalled = true;
}

const TMP_TAG = ".memlens-";

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}${TMP_TAG}${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Temporary files of this target left by a run that was killed (its process is gone). */
function removeStaleTemps(target: string): void {
  const prefix = `.${basename(target)}${TMP_TAG}`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const m = /^(\d+)-[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) rmSync(join(dirname(target), name), { force: true });
  }
}

/**
 * Write `chunks` to `out` atomically (checked by checkOutput first). Returns the bytes written. Errors name
 * the target, never the temporary file.
 */
export function writeOutput(out: string, chunks: Iterable<Uint8Array>, opts: OutputOptions, expectedBytes?: number): number {
  checkOutput(out, opts);
  const target = resolve(out);
  const existing = statOrUndefined(target, true);
  removeStaleTemps(target);
  const tmp = tempName(target);
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o666);
  } catch (e) {
    throw new UsageError(`${opts.flag} ${out}: cannot write in ${dirname(out)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  pending.add(tmp);
  install();
  let open = true;
  try {
    let written = 0;
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      written += chunk.length;
    }
    if (expectedBytes !== undefined && written !== expectedBytes) throw new Error(`wrote ${written} bytes, expected ${expectedBytes}`);
    // A replaced file keeps its permissions (a forced read-only target stays read-only).
    if (existing) fchmodSync(fd, existing.mode & 0o7777);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, target);
    return written;
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new UsageError(`${opts.flag} ${out}: cannot write (${code})`);
    throw e;
  } finally {
    pending.delete(tmp);
    // A signal that arrived during the (synchronous) write is read in the event loop's next poll phase:
    // keep the handler past it (an immediate scheduled from an immediate runs after that poll), so it is not lost.
    if (pending.size === 0) setImmediate(() => setImmediate(() => pending.size === 0 && uninstall()));
  }
}
