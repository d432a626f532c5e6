// Generation's whole forward pass as one engine call, for backends that have it (the native one): token rows
// at given positions through every block over a preallocated key/value cache, and the last row's next-token
// logits back as a plain array. The model's tensor path (gpt.ts) stays the reference it is tested against.
import type { tf } from './tf';

/** The sizes of a GPT (config.ts's fields that the pass needs). */
export interface FusedGptShape {
  nLayers: number;
  embDim: number;
  nHeads: number;
  contextLength: number;
  vocabSize: number;
}

/** Keys and values of every layer, (layers, heads, context, head size) each, written at the rows' positions. */
export interface FusedKvCache {
  k: Float32Array;
  v: Float32Array;
}

/**
 * Runs token `ids` at positions pos0.. (the cache must hold the earlier positions' keys and values) and
 * returns the last row's logits (V). `weights`: wte, wpe, ln_f γ, ln_f β, the head (V, C), then per block
 * ln_1 γ β, c_attn W b (b undefined without a qkv bias), attn c_proj W b, ln_2 γ β, c_fc W b, mlp c_proj W b.
 */
export type FusedGptForward = (
  weights: readonly (tf.Tensor | undefined)[],
  shape: FusedGptShape,
  ids: Int32Array,
  pos0: number,
  cache: FusedKvCache,
) => Float32Array;

const registry = new Map<string, FusedGptForward>();

/** Registers a backend's fused forward pass under its TensorFlow.js name. */
export function registerFusedForward(backendName: string, fn: FusedGptForward): void {
  registry.set(backendName, fn);
}

/** The fused forward pass of `backendName`, if it has one. */
export function fusedForward(backendName: string): FusedGptForward | undefined {
  return registry.get(backendName);
}
