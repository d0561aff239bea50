/** Classifier outputs -> the top classes, with labels when the model has them. Pure. */

export interface Scored {
  index: number;
  label?: string;
  score: number;
}

/**
 * Scores from one row of outputs: softmax of logits, or the row itself when it already is a
 * probability distribution (non-negative, summing to 1), as for models that end in Softmax.
 */
export function scores(row: ArrayLike<number>): Float64Array {
  const n = row.length;
  const out = new Float64Array(n);
  let sum = 0;
  let allProb = true;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = row[i]!;
    if (v < 0 || v > 1) allProb = false;
    sum += v;
    if (v > max) max = v;
  }
  if (allProb && Math.abs(sum - 1) < 1e-3) {
    for (let i = 0; i < n; i++) out[i] = row[i]!;
    return out;
  }
  let z = 0;
  for (let i = 0; i < n; i++) z += out[i] = Math.exp(row[i]! - max);
  for (let i = 0; i < n; i++) out[i]! /= z;
  return out;
}

export function topK(row: ArrayLike<number>, k: number, labels?: readonly string[]): Scored[] {
  const s = scores(row);
  const idx = Array.from({ length: s.length }, (_, i) => i);
  idx.sort((a, b) => s[b]! - s[a]! || a - b);
  return idx.slice(0, Math.max(0, k)).map((index) => {
    const label = labels?.[index];
    return label === undefined ? { index, score: s[index]! } : { index, label, score: s[index]! };
  });
}
