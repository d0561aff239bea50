/**
 * A small deterministic generator (xorshift32, Marsaglia 2003: shifts 13, 17, 5): the same seed gives the same
 * sequence, for the GGUF writer's weights and the random weights ORT runs are fed. Unsigned 32-bit values.
 */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
