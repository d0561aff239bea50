/**
 * Tests leave no temporary folders behind: they create them through test/temp.ts, which removes each after the
 * test that made it (or remove them themselves). Checked here statically and on the helper, and by .ci/run, which
 * runs the whole suite with a TMPDIR of its own and fails on anything left in it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../bench/shared.js";

function testSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testSources(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

test("every test source that makes a temporary folder itself also removes it (or uses test/temp.ts)", () => {
  const unremoved = [...testSources(join(REPO_ROOT, "src")), ...testSources(join(REPO_ROOT, "test"))]
    .filter((f) => {
      const text = readFileSync(f, "utf8");
      return !f.endsWith("temp-clean.test.ts") && /\bmkdtempSync\(/.test(text) && !/\brmSync\(/.test(text);
    })
    .map((f) => relative(REPO_ROOT, f));
  assert.deepEqual(unremoved, [], "use tempDir() from test/temp.ts, which removes the folder after the test");
});

test("a test file using tempDir leaves its temporary folder empty, failing test included", () => {
  const tmp = mkdtempSync(join(tmpdir(), "memlens-temp-clean-"));
  try {
    const file = join(tmp, "probe.test.mjs");
    const helper = join(REPO_ROOT, "dist", "test", "temp.js");
    writeFileSync(file, [
      `import { test } from "node:test";`,
      `import { writeFileSync } from "node:fs";`,
      `import { tempDir } from ${JSON.stringify(helper)};`,
      `test("makes two", () => { writeFileSync(tempDir("a") + "/x", "1"); tempDir("b"); });`,
      `test("fails", () => { tempDir("c"); throw new Error("on purpose"); });`,
    ].join("\n"));
    const work = join(tmp, "work");
    mkdirSync(work);
    // NODE_TEST_CONTEXT would make the child report to this runner instead of running on its own.
    const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    const r = spawnSync(process.execPath, ["--test", file], { encoding: "utf8", env: { ...env, TMPDIR: work } });
    assert.notEqual(r.status, 0, "the failing probe fails");
    assert.deepEqual(readdirSync(work), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
