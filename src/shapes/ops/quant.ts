/** Shape rules: quant ops. */
import type { OpFamily } from "../types.js";

export const rules: OpFamily = {};
