/**
 * The CLI: commands as data, one file each, imported lazily. Every failure is one line on stderr:
 * exit 1 for usage errors, 2 for unreadable or invalid input; never a stack trace.
 */
import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty";
import { MemlensError, UsageError } from "../errors.js";
import { printOut, printErr } from "./print.js";
import { checkFlags } from "./flags.js";

const subCommands = {
  analyze: () => import("./analyze.js").then((m) => m.default as CommandDef),
  layers: () => import("./layers.js").then((m) => m.default as CommandDef),
  fit: () => import("./fit.js").then((m) => m.default as CommandDef),
  predict: () => import("./predict.js").then((m) => m.default as CommandDef),
  profile: () => import("./profile.js").then((m) => m.default as CommandDef),
  quantize: () => import("./quantize.js").then((m) => m.default as CommandDef),
  serve: () => import("./serve.js").then((m) => m.default as CommandDef),
};

const main = defineCommand({
  meta: { name: "memlens", version: "0.1.0", description: "where every byte of a model's memory goes" },
  subCommands,
});

export async function run(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    const { runSeedScenario } = await import("./seed.js");
    return guard(() => runSeedScenario());
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    const name = argv[0] as keyof typeof subCommands;
    const cmd = name in subCommands ? await subCommands[name]() : main;
    const text = await renderUsage(cmd, name in subCommands ? main : undefined);
    // Help is memlens's own text (descriptions from its tables): its colour codes are written as they are.
    process.stdout.write((useColour() ? text : stripColour(text)) + "\n");
    return 0;
  }
  if (argv[0] === "--version" || argv[0] === "-v") {
    printOut("0.1.0\n");
    return 0;
  }
  const name = argv[0]!;
  if (!(name in subCommands)) {
    printErr(`memlens: unknown command '${name}' (commands: ${Object.keys(subCommands).join(", ")})\n`);
    return 1;
  }
  const cmd = await subCommands[name as keyof typeof subCommands]();
  return guard(async () => {
    // analyze, layers and fit also take llama.cpp's own flags for a .gguf (read from raw argv by src/cli/llamacpp.ts);
    // for any other model they are unknown flags (--batch-size on an ONNX graph would otherwise do nothing).
    const gguf = ["analyze", "layers", "fit"].includes(name) && argv.slice(1).some((a) => /\.gguf$/i.test(a));
    const llama = gguf ? (await import("../memory/llamacpp/settings.js")).LLAMACPP_FLAGS : [];
    checkFlags((cmd.args ?? {}) as Parameters<typeof checkFlags>[0], argv.slice(1), `memlens ${name}`, {
      long: llama.map((f) => f[0]),
      short: llama.map((f) => f[1]).filter((a) => a !== ""),
    });
    return runCommand(cmd, { rawArgs: argv.slice(1) });
  });
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org) or TERM is dumb. */
export function useColour(env: NodeJS.ProcessEnv = process.env, isTTY: boolean = process.stdout.isTTY === true): boolean {
  return isTTY && (env["NO_COLOR"] ?? "") === "" && env["TERM"] !== "dumb";
}

function stripColour(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

async function guard(fn: () => unknown): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof MemlensError) {
      printErr(`memlens: ${oneLine(err.message)}\n`);
      return e.exitCode;
    }
    if (err?.name === "CLIError" || e instanceof UsageError) {
      printErr(`memlens: ${oneLine(err.message)}\n`);
      return 1;
    }
    // Anything else escaped a reader or a rule on hostile input: still one line, and exit 2.
    printErr(`memlens: invalid input: ${oneLine(err?.message ?? String(e))}\n`);
    return 2;
  }
}

function oneLine(s: string): string {
  // Strip terminal colour codes citty adds, and keep one line.
  return stripColour(s).split("\n")[0]!.slice(0, 500);
}
