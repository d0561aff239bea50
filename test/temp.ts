/**
 * Temporary folders for tests: `memlens-PREFIX-XXXXXX` in the system temp folder, removed when the test that made
 * it ends (node:test's after hook attaches to the running test, or to the file when called at its top level), and
 * on exit for a file that stops early. Tests create temporary folders only through here (test/temp-clean.test.ts
 * checks it), so a run leaves none behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const made = new Set<string>();
let exitHook = false;

function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `memlens-${prefix}-`));
  made.add(dir);
  after(() => remove(dir));
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => [...made].forEach(remove));
  }
  return dir;
}
