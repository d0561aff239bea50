/** How memlens writes bytes and counts in every message and report, whichever layer writes it. */

/** Bytes in binary units (KiB, MiB, GiB), as nvidia-smi and PyTorch users read them. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  const a = Math.abs(n);
  if (a < 1024) return `${n} B`;
  if (a < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (a < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Counts with SI suffixes (FLOPs, parameters). */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  const a = Math.abs(n);
  if (a < 1e3) return String(n);
  if (a < 1e6) return `${(n / 1e3).toFixed(1)}K`;
  if (a < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  if (a < 1e12) return `${(n / 1e9).toFixed(2)}G`;
  return `${(n / 1e12).toFixed(2)}T`;
}
