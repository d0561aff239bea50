/**
 * Kernel scratch: buffers an ORT CPU kernel takes from OpKernelContext::GetTempSpaceAllocator while it
 * runs. On the CPU provider that allocator is the session's BFC arena, so the scratch lands in the arena
 * next to the planned tensors, but it is not a planned value: the memory pattern never traces it, and
 * every run asks the arena for it again (on the second run, while the pattern's block is held).
 *
 * Only kernels whose source allocates scratch of a size fixed by the inputs are listed; each entry names
 * the kernel it follows.
 */
import type { OrtNode, OrtTensor } from "./graph.js";

type ScratchRule = (node: OrtNode, tensor: (name: string) => OrtTensor | undefined) => number;

/**
 * contrib_ops/cpu/bert/bias_gelu.cc (BiasGelu, and FastGelu when given a bias): one temporary of the
 * input's element count holds 0.5 * (x + bias) for the whole tensor while the output holds erf/tanh of
 * it; every element is written. FastGelu without a bias computes in the output and takes none.
 */
const biasGeluScratch: ScratchRule = (node, tensor) => {
  const bias = node.inputs[1];
  if (bias === undefined || bias === "") return 0;
  return tensor(node.inputs[0] ?? "")?.bytes ?? 0;
};

const RULES: Record<string, ScratchRule> = {
  "ms.BiasGelu": biasGeluScratch,
  "ms.FastGelu": biasGeluScratch,
};

/** Bytes of scratch the node's kernel allocates from the arena while it runs (0: none). */
export function kernelScratchBytes(node: OrtNode, tensors: ReadonlyMap<string, OrtTensor>): number {
  const rule = RULES[node.op];
  return rule ? rule(node, (name) => tensors.get(name)) : 0;
}
