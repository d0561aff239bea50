import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { tempDir } from "../../test/temp.js";
import { writeOutput } from "./write-node.js";

const MODULE = pathToFileURL(join(import.meta.dirname, "write-node.js")).href;

test("a SIGTERM or SIGINT during a write leaves no temporary file, and no partial file under the target's name", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const dir = tempDir("write-signal");
    const out = join(dir, "big.onnx");
    // 40 chunks of 1 MiB, 25 ms apart: the signal lands in the middle of the write.
    const script = `
      import { writeOutput } from ${JSON.stringify(MODULE)};
      function* chunks() {
        for (let i = 0; i < 40; i++) {
          if (i === 1) process.stdout.write("started\\n");
          const until = Date.now() + 25; while (Date.now() < until);
          yield new Uint8Array(1 << 20).fill(i);
        }
      }
      writeOutput(${JSON.stringify(out)}, chunks(), { flag: "-o", inputs: [] });
      setTimeout(() => process.stdout.write("finished\\n"), 2000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, sig) => done(sig)));
    await new Promise<void>((started) =>
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes("started")) started();
      }),
    );
    child.kill(signal);
    assert.equal(await exited, signal, "the process still dies of the signal");
    assert.doesNotMatch(stdout, /finished/);
    const left = readdirSync(dir);
    assert.deepEqual(left.filter((f) => f.endsWith(".tmp")), [], `left ${left.join(", ")}`);
    // Either nothing landed, or the whole file did (a synchronous write finishes before the signal is handled).
    if (left.includes("big.onnx")) assert.equal(statSync(out).size, 40 << 20);
  }
});

test("a temporary file left by a killed writer (its process gone) is removed by the next write to that target", () => {
  const dir = tempDir("write-stale");
  const out = join(dir, "r.html");
  const stale = join(dir, ".r.html.memlens-999999999-abc123.tmp");
  const other = join(dir, ".other.html.memlens-999999999-abc123.tmp");
  writeFileSync(stale, "x");
  writeFileSync(other, "x");
  assert.equal(writeOutput(out, [new Uint8Array([1, 2, 3])], { flag: "--html", inputs: [] }), 3);
  assert.deepEqual(readdirSync(dir).sort(), [".other.html.memlens-999999999-abc123.tmp", "r.html"]);
});

test("a folder, a dangling symlink and an input are refused by name", () => {
  const dir = tempDir("write-refuse");
  assert.throws(() => writeOutput(dir, [], { flag: "-o", inputs: [] }), /is a folder/);
  const input = join(dir, "m.onnx");
  writeFileSync(input, "model");
  assert.throws(() => writeOutput(input, [], { flag: "-o", inputs: [input] }), /that is the input .*m\.onnx; refusing/);
});
