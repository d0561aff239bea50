/**
 * The CLI entry point (as bin/memlens.js runs it) followed by one stderr line with this process's peak
 * RSS: Node can not report a child's resource usage, so the speed benchmark runs the CLI through this.
 * Linux's VmHWM is used when there: getrusage's maxrss survives exec, so a child forked from a big parent
 * would report the parent's size.
 */
import { readFileSync } from "node:fs";
import { run } from "../src/cli/main.js";

function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

const code = await run(process.argv.slice(2));
process.stderr.write(`MEMLENS_MAXRSS ${peakRssBytes()}\n`);
process.exitCode = code;
