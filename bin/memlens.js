#!/usr/bin/env node
import { run } from "../dist/src/cli/main.js";

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`memlens: ${String(e?.message ?? e).split("\n")[0]}\n`);
    process.exitCode = 2;
  },
);
