/**
 * Optimizer state and step temporaries, as torch.optim's default (foreach) implementations allocate them
 * (torch/optim/sgd.py, adam.py, adamw.py, PyTorch 2.x):
 * - SGD without momentum keeps nothing; with momentum one buffer per parameter, created on the first step
 *   as a clone of the gradient;
 * - Adam/AdamW keep exp_avg and exp_avg_sq per parameter (zeros_like, created on the first step; `step` is a
 *   CPU scalar unless capturable/fused). `_multi_tensor_adam` computes `torch._foreach_sqrt(exp_avg_sqs)`:
 *   one temporary per parameter, all alive together until `_foreach_addcdiv_` has used them.
 * AdamW's decoupled weight decay multiplies the parameters in place (no temporary); Adam's default
 * weight_decay is 0 (with it, `_foreach_add(grads, params)` would add another list).
 */
import { UsageError } from "../../errors.js";

export type OptimizerKind = "sgd" | "momentum" | "adam" | "adamw";

export const OPTIMIZERS: readonly OptimizerKind[] = ["sgd", "momentum", "adam", "adamw"];

export function parseOptimizer(name: string | undefined): OptimizerKind {
  const n = (name ?? "adam").toLowerCase();
  if ((OPTIMIZERS as readonly string[]).includes(n)) return n as OptimizerKind;
  throw new UsageError(`--optimizer ${name}: expected one of ${OPTIMIZERS.join(", ")}`);
}

/** Persistent state tensors per parameter. */
export function statesPerParam(kind: OptimizerKind): number {
  return kind === "sgd" ? 0 : kind === "momentum" ? 1 : 2;
}

/** Temporaries per parameter that live together during step() (the foreach lists). */
export function stepTemporariesPerParam(kind: OptimizerKind): number {
  return kind === "adam" || kind === "adamw" ? 1 : 0;
}
