/**
 * Everything the CLI prints goes through here. Names, labels and metadata come from files, and a file may hold
 * terminal escape sequences (an ANSI "clear screen" in a label): every control character is escaped as \uXXXX
 * (C0, DEL, C1, line separators, bidi overrides), except the newlines and tabs of memlens's own layout. JSON
 * stays JSON: inside a string, \uXXXX is the same character.
 */
import { escapeControls } from "../formats/quote.js";

export function printable(text: string): string {
  return text
    .split("\n")
    .map((line) => line.split("\t").map(escapeControls).join("\t"))
    .join("\n");
}

export function printOut(text: string): void {
  process.stdout.write(printable(text));
}

export function printErr(text: string): void {
  process.stderr.write(printable(text));
}
