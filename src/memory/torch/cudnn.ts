/**
 * cuDNN convolution workspace: scratch a convolution algorithm allocates through the caching allocator
 * while it runs (so it counts in max_memory_allocated), freed when the call returns.
 */
import type { DType } from "../../graph/dtype.js";
import type { Node } from "../../graph/ir.js";
import type { TensorInfo } from "../../shapes/types.js";

export interface ConvWorkspaceOptions {
  benchmark: boolean;
  dtype: DType | undefined;
}

export function convWorkspace(_conv: Node, _values: Map<string, TensorInfo>, _opts: ConvWorkspaceOptions): number {
  return 0;
}
