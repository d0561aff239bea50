/** Shape rules: shape-ops ops. */
import type { OpFamily } from "../types.js";

export const rules: OpFamily = {};
