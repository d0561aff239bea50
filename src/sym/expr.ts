/**
 * Symbolic dimensions. A dimension is an integer or a polynomial with integer coefficients over atoms:
 * input symbols (`batch`, `seq`) and opaque terms that can not be simplified without values
 * (`floor(seq/2)`, `max(a,b)`). Polynomials are kept in a canonical form, so two dims are equal exactly
 * when their printed forms are equal, which is how inferred shapes are compared with an exporter's.
 */
import { monoAtoms, monoKey, splitTop, symKey } from "./keys.js";

export type Dim = number | Poly;

/**
 * Bounds on an expression's size, so work follows the input's size and not what it claims (issue 12: the
 * dim_param `(a+b)*(c+d)*...` of 32 factors expands to 2^32 terms). An expression is measured by its printed
 * size (the characters of its monomial keys); past MAX_EXPRESSION_CHARS, or when a product would cost more
 * than MAX_PRODUCT_CHARS to build, the result is a fresh named unknown (`expr_overflow_N`) instead, and
 * overflowCount() goes up so the caller can warn. Real shapes print in a few dozen characters.
 */
export const MAX_EXPRESSION_CHARS = 4096;
export const MAX_PRODUCT_CHARS = 1 << 20;

let overflows = 0;
/** How many expressions have been replaced by an unknown so far (compare before and after a step). */
export function overflowCount(): number {
  return overflows;
}
/** The name of the latest unknown made for an expression too large to keep. */
export function lastOverflowName(): string {
  return `expr_overflow_${overflows}`;
}
function overflow(): Dim {
  overflows++;
  return sym(lastOverflowName());
}

type FnName = "floor" | "ceil" | "mod" | "max" | "min";
type Atom = { kind: "sym"; name: string } | { kind: "fn"; fn: FnName; args: Dim[] };

/** Atoms by their canonical key; keys are the printed form. */
const atoms = new Map<string, Atom>();

function atomKey(a: Atom): string {
  if (a.kind === "sym") return symKey(a.name);
  if (a.fn === "floor" || a.fn === "ceil") {
    // floor((H + 1)/2), not floor(H + 1/2): a sum or a negative term as numerator or denominator is bracketed.
    return `${a.fn}(${a.args.map((d) => (needsBrackets(d) ? `(${dimToString(d)})` : dimToString(d))).join("/")})`;
  }
  return `${a.fn}(${a.args.map(dimToString).join(",")})`;
}

function needsBrackets(d: Dim): boolean {
  return typeof d === "number" ? d < 0 : d.terms.size > 1 || [...d.terms.values()].some((c) => c < 0);
}

function internAtom(a: Atom): string {
  const k = atomKey(a);
  if (!atoms.has(k)) atoms.set(k, a);
  return k;
}

export class Poly {
  /**
   * monomial key -> coefficient; "" is the constant term. Never contains zero coefficients.
   * `chars`: the keys' total length plus one per term, the measure the size bounds use.
   */
  private constructor(readonly terms: ReadonlyMap<string, number>, readonly chars: number) {}

  static make(terms: Map<string, number>): Dim {
    let chars = 0;
    for (const [k, c] of terms) {
      if (c === 0) terms.delete(k);
      else chars += k.length + 1;
    }
    if (terms.size === 0) return 0;
    if (terms.size === 1 && terms.has("")) return terms.get("")!;
    if (chars > MAX_EXPRESSION_CHARS) return overflow();
    return new Poly(terms, chars);
  }

  /** One atom, whatever its name's length (a long dim_param kept whole is one symbol, not a large expression). */
  static atom(key: string): Poly {
    return new Poly(new Map([[key, 1]]), key.length + 1);
  }

  toString(): string {
    const keys = [...this.terms.keys()].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a < b ? -1 : a > b ? 1 : 0));
    let s = "";
    for (const k of keys) {
      const c = this.terms.get(k)!;
      const mag = Math.abs(c);
      const body = k === "" ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
      s += s === "" ? (c < 0 ? `-${body}` : body) : c < 0 ? ` - ${body}` : ` + ${body}`;
    }
    return s;
  }
}

function termsOf(d: Dim): Map<string, number> {
  if (typeof d === "number") return new Map(d === 0 ? [] : [["", d]]);
  return new Map(d.terms);
}

export function isSym(d: Dim): d is Poly {
  return typeof d !== "number";
}

export function sym(name: string): Dim {
  return Poly.atom(internAtom({ kind: "sym", name }));
}

export function add(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  const t = termsOf(a);
  for (const [k, c] of termsOf(b)) t.set(k, (t.get(k) ?? 0) + c);
  return Poly.make(t);
}

export function neg(a: Dim): Dim {
  return mul(a, -1);
}

export function sub(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return add(a, neg(b));
}

function charsOf(d: Dim): number {
  return typeof d === "number" ? 1 : d.chars;
}

function termCount(d: Dim): number {
  return typeof d === "number" ? 1 : d.terms.size;
}

export function mul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  // Building every product key costs about this many characters: refuse before doing it.
  if (charsOf(a) * termCount(b) + charsOf(b) * termCount(a) > MAX_PRODUCT_CHARS) return overflow();
  const out = new Map<string, number>();
  for (const [ka, ca] of termsOf(a)) {
    for (const [kb, cb] of termsOf(b)) {
      const k = monoKey([...monoAtoms(ka), ...monoAtoms(kb)]);
      out.set(k, (out.get(k) ?? 0) + ca * cb);
    }
  }
  return Poly.make(out);
}

/** Exact quotient a/b when every term divides, else undefined. */
function exactDiv(a: Dim, b: Dim): Dim | undefined {
  if (typeof b === "number") {
    if (b === 0) return undefined;
    const out = new Map<string, number>();
    for (const [k, c] of termsOf(a)) {
      if (c % b !== 0) return undefined;
      out.set(k, c / b);
    }
    return Poly.make(out);
  }
  if (b.terms.size !== 1) return polyDiv(a, b);
  const [[kb, cb]] = [...b.terms] as [[string, number]];
  const bAtoms = monoAtoms(kb);
  const out = new Map<string, number>();
  for (const [k, c] of termsOf(a)) {
    const rest = monoAtoms(k);
    for (const atom of bAtoms) {
      const i = rest.indexOf(atom);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    if (c % cb !== 0) return undefined;
    out.set(monoKey(rest), c / cb);
  }
  return Poly.make(out);
}

/**
 * Exact division by a polynomial of several terms (batch*seq + batch by seq + 1), by multivariate long
 * division in graded-lex order: for one divisor the remainder is zero exactly when it divides.
 */
function polyDiv(a: Dim, b: Poly): Dim | undefined {
  const rem = termsOf(a);
  const [kb, cb] = leadingTerm(b.terms);
  const quotient = new Map<string, number>();
  for (let guard = 0; rem.size > 0; guard++) {
    if (guard > 256) return undefined;
    const [kr, cr] = leadingTerm(rem);
    const rest = monoAtoms(kr);
    for (const atom of monoAtoms(kb)) {
      const i = rest.indexOf(atom);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    if (cr % cb !== 0) return undefined;
    const kq = monoKey(rest);
    const cq = cr / cb;
    quotient.set(kq, (quotient.get(kq) ?? 0) + cq);
    for (const [k, c] of b.terms) {
      const km = monoKey([...rest, ...monoAtoms(k)]);
      const v = (rem.get(km) ?? 0) - cq * c;
      if (v === 0) rem.delete(km);
      else rem.set(km, v);
    }
  }
  return Poly.make(quotient);
}

function leadingTerm(terms: ReadonlyMap<string, number>): [string, number] {
  let best: [string, number] | undefined;
  for (const t of terms) if (!best || monoCompare(t[0], best[0]) > 0) best = t;
  return best!;
}

/** Graded lexicographic order on monomials: higher degree first, then exponents atom by atom. */
function monoCompare(x: string, y: string): number {
  const ax = monoAtoms(x);
  const ay = monoAtoms(y);
  if (ax.length !== ay.length) return ax.length - ay.length;
  const names = [...new Set([...ax, ...ay])].sort();
  for (const n of names) {
    const d = ax.filter((a) => a === n).length - ay.filter((a) => a === n).length;
    if (d !== 0) return d;
  }
  return 0;
}

function fnAtom(fn: FnName, args: Dim[]): Dim {
  if (args.reduce<number>((n, d) => n + charsOf(d), 0) > MAX_EXPRESSION_CHARS) return overflow();
  return Poly.make(new Map([[internAtom({ kind: "fn", fn, args }), 1]]));
}

export function floorDiv(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.floor(a / b);
  if (b === 1) return a;
  return exactDiv(a, b) ?? fnAtom("floor", [a, b]);
}

export function ceilDiv(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.ceil(a / b);
  if (b === 1) return a;
  return exactDiv(a, b) ?? fnAtom("ceil", [a, b]);
}

export function mod(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return ((a % b) + b) % b;
  if (exactDiv(a, b) !== undefined) return 0;
  return fnAtom("mod", [a, b]);
}

/**
 * Dims are sizes: symbols are >= 1, which lets max/min pick an argument whenever the difference of the two
 * has a provable sign (max(1, seq) = seq, min(seq, seq + 1) = seq); otherwise the term stays opaque.
 */
export function max(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.max(a, b);
  if (equal(a, b)) return a;
  if (lowerBound(sub(a, b)) >= 0) return a;
  if (lowerBound(sub(b, a)) >= 0) return b;
  const [x, y] = dimToString(a) < dimToString(b) ? [a, b] : [b, a];
  return fnAtom("max", [x, y]);
}

export function min(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.min(a, b);
  if (equal(a, b)) return a;
  if (lowerBound(sub(b, a)) >= 0) return a;
  if (lowerBound(sub(a, b)) >= 0) return b;
  const [x, y] = dimToString(a) < dimToString(b) ? [a, b] : [b, a];
  return fnAtom("min", [x, y]);
}

/**
 * A lower bound of a dim, assuming every symbol is >= 1; -Infinity when none can be proved (a negative
 * coefficient on a term with no upper bound). Used to simplify clamps such as Slice's and max(0, n).
 */
export function lowerBound(d: Dim): number {
  if (typeof d === "number") return d;
  let lb = 0;
  for (const [k, c] of d.terms) {
    if (k === "") {
      lb += c;
      continue;
    }
    if (c < 0) return -Infinity;
    let m = 1;
    for (const ak of monoAtoms(k)) {
      const a = atomLowerBound(ak);
      if (a < 0) return -Infinity;
      m *= a;
    }
    lb += c * m;
  }
  return lb;
}

function atomLowerBound(key: string): number {
  const a = atoms.get(key);
  if (!a) return -Infinity;
  if (a.kind === "sym") return 1;
  const [x, y] = a.args as [Dim, Dim];
  switch (a.fn) {
    case "floor":
    case "ceil": {
      const lx = lowerBound(x);
      if (typeof y !== "number" || y <= 0 || lx < 0) return lx >= 0 && lowerBound(y) > 0 ? 0 : -Infinity;
      return a.fn === "floor" ? Math.floor(lx / y) : Math.ceil(lx / y);
    }
    case "mod":
      return 0;
    case "max":
      return Math.max(lowerBound(x), lowerBound(y));
    case "min":
      return Math.min(lowerBound(x), lowerBound(y));
  }
}

/**
 * The sign of a - b when it can be proved (symbols are sizes, >= 1): Equal(seq, -1) is 0 and
 * Less(seq - 1, seq) is 1 without knowing seq. undefined when the sign depends on the symbols' values.
 */
export function compare(a: Dim, b: Dim): -1 | 0 | 1 | undefined {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (equal(a, b)) return 0;
  const d = sub(a, b);
  if (lowerBound(d) > 0) return 1;
  if (lowerBound(neg(d)) > 0) return -1;
  return undefined;
}

export function equal(a: Dim, b: Dim): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  return a === b || a.toString() === b.toString();
}

export function dimToString(d: Dim): string {
  return typeof d === "number" ? String(d) : d.toString();
}

export function product(dims: readonly Dim[]): Dim {
  let p: Dim = 1;
  for (const d of dims) p = mul(p, d);
  return p;
}

/** The symbols a dim mentions. */
export function symbolsOf(d: Dim, out = new Set<string>()): Set<string> {
  if (typeof d === "number") return out;
  for (const k of d.terms.keys()) {
    for (const ak of monoAtoms(k)) {
      const a = atoms.get(ak);
      if (!a) continue;
      if (a.kind === "sym") out.add(a.name);
      else for (const arg of a.args) symbolsOf(arg, out);
    }
  }
  return out;
}

/** Substitute values for symbols; returns a number when every symbol is bound. */
export function evaluate(d: Dim, env: Readonly<Record<string, Dim>>): Dim {
  if (typeof d === "number") return d;
  let total: Dim = 0;
  for (const [k, c] of d.terms) {
    let term: Dim = c;
    for (const ak of monoAtoms(k)) term = mul(term, evalAtom(ak, env));
    total = add(total, term);
  }
  return total;
}

function evalAtom(key: string, env: Readonly<Record<string, Dim>>): Dim {
  const a = atoms.get(key);
  if (!a) throw new Error(`unknown atom ${key}`);
  // Own properties only: a dimension named `constructor` or `__proto__` is a name like any other.
  if (a.kind === "sym") return Object.hasOwn(env, a.name) ? env[a.name]! : sym(a.name);
  const [x, y] = a.args.map((v) => evaluate(v, env)) as [Dim, Dim];
  switch (a.fn) {
    case "floor":
      return floorDiv(x, y);
    case "ceil":
      return ceilDiv(x, y);
    case "mod":
      return mod(x, y);
    case "max":
      return max(x, y);
    case "min":
      return min(x, y);
  }
}
