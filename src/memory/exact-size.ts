/**
 * The simulators add and subtract byte counts and use them as addresses: past 2^53 a double no longer holds
 * every integer, sums stop being exact, and an allocator would lose track of its blocks ("free of unknown
 * address 6.49e+32"). A request that large is no device's size; it is refused as the input's fault, by name.
 */
import { ModelFormatError } from "../errors.js";

export function exactBytes(bytes: number, what: string): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new ModelFormatError(`${what} asks for ${bytes} bytes: past exact arithmetic (2^53 bytes), far past any device`);
  }
  return bytes;
}
