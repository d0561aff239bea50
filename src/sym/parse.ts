/** Parsing a dim_param into a symbolic dimension. */
import { add, floorDiv, max, min, mod, mul, neg, overflowCount, sub, sym, type Dim } from "./expr.js";

/**
 * Parse a dim_param as exporters write it: `batch`, `seq*batch`, `2*seq + 1`, `(seq//2)`, `Max(1, seq)`.
 * Anything else is kept as one opaque symbol named by the whole string.
 */
export function parseDim(text: string): Dim {
  const p = new DimParser(text.replace(/\s+/g, ""));
  const before = overflowCount();
  try {
    const d = p.expr();
    // Too large to expand (a product of many sums): the whole text is one symbol, as an unparsed one is.
    if (overflowCount() !== before) return sym(text);
    if (p.i !== p.s.length) return sym(text);
    return d;
  } catch {
    return sym(text);
  }
}

class DimParser {
  i = 0;
  constructor(readonly s: string) {}
  private peek(): string {
    return this.s[this.i] ?? "";
  }
  expr(): Dim {
    let v = this.term();
    for (;;) {
      const c = this.peek();
      if (c === "+") {
        this.i++;
        v = add(v, this.term());
      } else if (c === "-") {
        this.i++;
        v = sub(v, this.term());
      } else return v;
    }
  }
  term(): Dim {
    let v = this.factor();
    for (;;) {
      if (this.s.startsWith("//", this.i)) {
        this.i += 2;
        v = floorDiv(v, this.factor());
      } else if (this.peek() === "*") {
        this.i++;
        v = mul(v, this.factor());
      } else if (this.peek() === "%") {
        this.i++;
        v = mod(v, this.factor());
      } else return v;
    }
  }
  factor(): Dim {
    const c = this.peek();
    if (c === "-") {
      this.i++;
      return neg(this.factor());
    }
    if (c === "(") {
      this.i++;
      const v = this.expr();
      if (this.peek() !== ")") throw new Error("expected )");
      this.i++;
      return v;
    }
    const m = /^[0-9]+/.exec(this.s.slice(this.i));
    if (m) {
      this.i += m[0].length;
      return Number(m[0]);
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.s.slice(this.i));
    if (!id) throw new Error("expected a name");
    this.i += id[0].length;
    const fn = id[0].toLowerCase();
    if (this.peek() === "(" && (fn === "max" || fn === "min" || fn === "floordiv" || fn === "mod")) {
      this.i++;
      const a = this.expr();
      if (this.peek() !== ",") throw new Error("expected ,");
      this.i++;
      const b = this.expr();
      if (this.peek() !== ")") throw new Error("expected )");
      this.i++;
      return fn === "max" ? max(a, b) : fn === "min" ? min(a, b) : fn === "mod" ? mod(a, b) : floorDiv(a, b);
    }
    return sym(id[0]);
  }
}
