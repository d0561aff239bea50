/**
 * The largest n whose predicted total fits a capacity: doubling until it does not fit, then bisection.
 * Totals grow with the batch (or context), so the answer is the boundary of one monotone search.
 * `total(n)` returns undefined when n can not run at all (out of memory inside the simulation).
 */
export interface FitSearch {
  /** Largest fitting n; 0 when even 1 does not fit. */
  max: number;
  /** The total at `max` (at 1 when nothing fits, when known). */
  total: number;
  /** The search stopped at `limit` without running out of memory. */
  bounded: boolean;
}

export function largestThatFits(total: (n: number) => number | undefined, capacity: number, limit: number): FitSearch {
  const fits = (n: number): number | undefined => {
    const t = total(n);
    return t !== undefined && t <= capacity ? t : undefined;
  };
  const first = fits(1);
  if (first === undefined) return { max: 0, total: total(1) ?? 0, bounded: false };
  let lo = 1;
  let loTotal = first;
  let hi = 2;
  for (;;) {
    if (hi > limit) {
      // Check the limit itself before reporting it as the bound.
      const atLimit = lo < limit ? fits(limit) : undefined;
      if (atLimit !== undefined) return { max: limit, total: atLimit, bounded: true };
      hi = limit + 1;
      break;
    }
    const t = fits(hi);
    if (t === undefined) break;
    lo = hi;
    loTotal = t;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const t = fits(mid);
    if (t !== undefined) {
      lo = mid;
      loTotal = t;
    } else hi = mid;
  }
  return { max: lo, total: loTotal, bounded: false };
}
