/**
 * JSON as input files hold it (config.json, safetensors headers, sidecars, index files), parsed with two rules
 * JSON.parse does not have: an object that names a key twice is refused (JSON.parse keeps the last silently,
 * so a file could say 2 layers to one reader and 100000 to another; RFC 8259 section 4 leaves duplicates to
 * the reader), and nesting deeper than MAX_JSON_DEPTH is refused (JSON.parse recurses on the stack).
 * The check is one linear scan before JSON.parse; strings are compared after unescaping.
 */
import { ModelFormatError } from "../errors.js";

/** Real configs nest 3-4 deep; a few levels more for tokenizer or quantisation blocks. */
export const MAX_JSON_DEPTH = 64;

/** JSON.parse(text), after refusing duplicate keys and deep nesting; errors name `what`. */
export function parseJson(text: string, what: string): unknown {
  checkJson(text, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${what}: not JSON (${(e as Error).message})`);
  }
}

/** Throws ModelFormatError on a repeated key or nesting past MAX_JSON_DEPTH; malformed JSON is left to JSON.parse. */
export function checkJson(text: string, what: string): void {
  // One entry per open container: the keys seen (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return; // unterminated: JSON.parse says where
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return;
        }
        if (top.has(key)) throw new ModelFormatError(`${what}: key ${JSON.stringify(key.slice(0, 80))} appears twice in one object`);
        top.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) throw new ModelFormatError(`${what}: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
}

/** The index of the closing quote of the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j;
  }
  return -1;
}
