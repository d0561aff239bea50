/** How atoms and monomials of a symbolic dimension are written as keys (their printed form), and split again. */

/**
 * A symbol's key is its name, bracketed when the name holds '*' or parentheses (an unparsed dim_param such as
 * `(a+b)*(c+d)`): monomial keys are split on '*' outside parentheses, so the name must stay one piece.
 * Unbalanced parentheses become '_' in the key (the symbol keeps its name for binding).
 */
export function symKey(name: string): string {
  if (!/[*()]/.test(name)) return name;
  let depth = 0;
  let closedEarly = false;
  for (let i = 0; i < name.length && depth >= 0; i++) {
    if (name[i] === "(") depth++;
    else if (name[i] === ")" && --depth === 0 && i < name.length - 1) closedEarly = true;
  }
  if (depth !== 0) return `(${name.replace(/[()]/g, "_")})`;
  // Already one bracketed piece (a key written back to a file and read again): keep it as it is.
  return name.startsWith("(") && !closedEarly ? name : `(${name})`;
}

/** A monomial is a sorted list of atom keys (repeats are powers); its key joins them with '*'. */
export function monoKey(keys: string[]): string {
  return keys.slice().sort().join("*");
}

export function monoAtoms(key: string): string[] {
  return key === "" ? [] : splitTop(key, "*");
}

/** Split on a separator outside parentheses. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === sep && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
