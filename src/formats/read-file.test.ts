import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { openRegularFile, readRegularFile, readRegularText } from "./read-file.js";
import { closeSync } from "node:fs";

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "memlens-readfile-"));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("a regular file, and a link to one, is read whole", () => {
  const dir = folder();
  writeFileSync(join(dir, "a.json"), '{"x":1}');
  symlinkSync(join(dir, "a.json"), join(dir, "link.json"));
  assert.equal(readRegularText(join(dir, "a.json"), 100), '{"x":1}');
  assert.equal(readRegularText(join(dir, "link.json"), 100), '{"x":1}');
  const { fd, size } = openRegularFile(join(dir, "link.json"));
  closeSync(fd);
  assert.equal(size, 7);
});

test("a file over the limit is refused before it is read", () => {
  const dir = folder();
  writeFileSync(join(dir, "big"), Buffer.alloc(1000));
  assert.throws(() => readRegularFile(join(dir, "big"), 999, "config.json"), (e) => e instanceof InputError && /1000 bytes is more than the 999/.test(e.message));
  assert.equal(readRegularFile(join(dir, "big"), 1000).length, 1000);
});

test("FIFOs, devices, directories and links to them are refused at once, with what they are", async () => {
  const dir = folder();
  execFileSync("mkfifo", [join(dir, "fifo")]);
  symlinkSync(join(dir, "fifo"), join(dir, "to-fifo"));
  symlinkSync("/dev/zero", join(dir, "to-zero"));
  mkdirSync(join(dir, "sub"));
  const cases: [string, RegExp][] = [
    [join(dir, "fifo"), /is a FIFO, not a regular file/],
    [join(dir, "to-fifo"), /is a FIFO/],
    ["/dev/zero", /is a character device/],
    [join(dir, "to-zero"), /is a character device/],
    [join(dir, "sub"), /is a directory/],
    [join(dir, "missing"), /ENOENT/],
  ];
  for (const [path, why] of cases) {
    // A FIFO would block a plain open forever: the test finishing at all is half of the check.
    assert.throws(() => readRegularFile(path, 1 << 20, "image"), (e) => e instanceof InputError && why.test(e.message) && e.message.includes(path), path);
  }
  const sock = join(dir, "sock");
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    assert.throws(() => readRegularFile(sock, 1 << 20), (e) => e instanceof InputError && /socket/.test(e.message));
  } finally {
    server.close();
  }
});
