/**
 * Named limits on what a file may declare. A declared value past one is not a model anyone runs: it is refused
 * with one line naming the value, before any estimate, instead of giving an estimate of nonsense.
 */

/**
 * The largest dimension a file may declare: 2^31 - 1. onnxruntime and PyTorch index a dimension with 64 bits,
 * but no real input has a dimension past 2^31 (2^31 audio samples are 13 hours at 44.1 kHz), and a larger one
 * is how a hostile file asks for 10^47 GiB.
 */
export const MAX_DECLARED_DIM = 2 ** 31 - 1;

/**
 * The largest tensor a file may declare or state with constants: 1 TiB. The largest accelerator holds under
 * 200 GiB; a single tensor of a terabyte is a file's claim, not a workload.
 */
export const MAX_DECLARED_TENSOR_BYTES = 2 ** 40;

export function formatLimitBytes(n: number): string {
  return n >= 2 ** 40 ? `${(n / 2 ** 40).toPrecision(3)} TiB` : n >= 2 ** 30 ? `${(n / 2 ** 30).toPrecision(3)} GiB` : `${n} B`;
}
