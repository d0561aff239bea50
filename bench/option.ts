/** `--name VALUE` from a bench script's arguments, or the default when the flag or its value is missing. */
export function option(args: readonly string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}
