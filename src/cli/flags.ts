/**
 * Flags a command does not declare are refused before it runs: citty keeps them as extra keys, so
 * `--batchsize 8` would otherwise run at batch 1 and say nothing. The nearest declared flag is suggested.
 */
import { UsageError } from "../errors.js";

interface ArgDefLike {
  type?: string;
  alias?: string | readonly string[];
}

/** Throws a UsageError naming the first flag in `rawArgs` that `argsDef` does not declare. */
export function checkFlags(argsDef: Record<string, ArgDefLike>, rawArgs: readonly string[], command: string, extra: { long: readonly string[]; short: readonly string[] } = { long: [], short: [] }): void {
  // `extra`: flags a command reads from raw argv itself (llama.cpp's -c, -ngl, --ctx-size, src/memory/llamacpp/settings.ts).
  const flags = new Set<string>(extra.long);
  const shorts = new Set<string>(["h", ...extra.short]);
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    flags.add(name);
    // citty reads a boolean's negation (--no-json) as the boolean set to false.
    if (def.type === "boolean") flags.add(`no-${name}`);
    for (const a of def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : def.alias) {
      if (a.length === 1) shorts.add(a);
      else flags.add(a);
    }
  }
  flags.add("help");
  for (const arg of rawArgs) {
    if (arg === "--") return;
    if (arg.startsWith("--")) {
      const name = arg.slice(2).split("=")[0]!;
      if (!flags.has(name)) throw new UsageError(`${command}: unknown flag --${name}${suggest(name, [...flags])}`);
    } else if (/^-[A-Za-z]/.test(arg)) {
      const short = arg.slice(1).split("=")[0]!;
      if (!shorts.has(short)) throw new UsageError(`${command}: unknown flag ${arg.split("=")[0]}${suggest(short, [...flags])}`);
    }
  }
}

function suggest(name: string, known: readonly string[]): string {
  const candidates = known.filter((k) => !k.startsWith("no-") || name.startsWith("no-"));
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of candidates) {
    // A flag that one name contains (batchsize / batch) is nearer than its edit distance says.
    const score = name.includes(k) || k.includes(name) ? Math.abs(name.length - k.length) / 2 : editDistance(name, k);
    if (score < bestScore) [best, bestScore] = [k, score];
  }
  const list = candidates.filter((k) => !k.startsWith("no-") && k !== "help").map((k) => `--${k}`).join(", ");
  // A one- or two-letter name is near every short flag: list them instead of guessing.
  return best !== undefined && name.length >= 3 && bestScore <= Math.max(2, name.length / 2) ? ` (did you mean --${best}?)` : ` (flags: ${list})`;
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
