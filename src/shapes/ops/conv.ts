/** Shape rules: conv ops. */
import type { OpFamily } from "../types.js";

export const rules: OpFamily = {};
