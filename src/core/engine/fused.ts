// Per-backend implementations of the model-level operations in ops.ts. A backend that has faster kernels
// (our native kernels, a tuned wasm path) registers them here under its TensorFlow.js backend name; ops.ts
// calls the active backend's version and falls back to the portable composition of plain tf ops.
import type * as ops from './ops';

/** The operations a backend may take over; each must match ops.ts exactly (values and gradients). */
export interface FusedOps {
  linear: typeof ops.linear;
  embedding: typeof ops.embedding;
  layerNorm: typeof ops.layerNorm;
  gelu: typeof ops.gelu;
  dropout: typeof ops.dropout;
  causalAttention: typeof ops.causalAttention;
  crossEntropy: typeof ops.crossEntropy;
  lmLogits: typeof ops.lmLogits;
  adamw: typeof ops.adamw;
}

const registry = new Map<string, Partial<FusedOps>>();

/** Registers (or extends) the fused operations of a TensorFlow.js backend. */
export function registerFusedOps(backendName: string, impl: Partial<FusedOps>): void {
  registry.set(backendName, { ...registry.get(backendName), ...impl });
}

/** The fused version of `op` for `backendName`, if one is registered. */
export function fusedOp<K extends keyof FusedOps>(backendName: string, op: K): FusedOps[K] | undefined {
  return registry.get(backendName)?.[op];
}

/** Names of the operations a backend has fused versions of (for `llm-lab info`). */
export function fusedOpNames(backendName: string): string[] {
  return Object.keys(registry.get(backendName) ?? {});
}
