/** The number of elements in a tensor of these dimensions: their product, 1 for a scalar (rank 0). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
