#!/usr/bin/env node
import { cliRun } from "./entry.js";

// `memlens layers big.onnx | head`: a reader that stops early is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const run = await cliRun();
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`memlens: ${String(e?.message ?? e).split("\n")[0]}\n`);
    process.exitCode = 2;
  },
);
