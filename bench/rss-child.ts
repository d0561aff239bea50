/**
 * The CLI entry point (as bin/memlens.js runs it: the bundle when it is fresh) followed by one stderr line with this process's peak
 * RSS: Node can not report a child's resource usage, so the speed benchmark runs the CLI through this.
 * Linux's VmHWM is used when there: getrusage's maxrss survives exec, so a child forked from a big parent
 * would report the parent's size.
 */
import { readFileSync } from "node:fs";
// @ts-expect-error bin/ is plain JavaScript without types: the module bin/memlens.js runs (the bundle when fresh)
import { cliRun } from "../../bin/entry.js";

function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

const run = (await cliRun()) as typeof import("../src/cli/main.js").run;
const code = await run(process.argv.slice(2));
process.stderr.write(`MEMLENS_MAXRSS ${peakRssBytes()}\n`);
process.exitCode = code;
