// Shared fixtures of the LoRA tests: a tiny model config, a batch, and adapters made to change the outputs.
import { tf } from '../../../../src/core/engine';
import type { LoraAdapters } from '../../../../src/core/lora';
import { makeConfig } from '../../../../src/core/model/config';

export const cfg = makeConfig('tiny', { vocabSize: 53, contextLength: 12, embDim: 16, nHeads: 2, nLayers: 2 });

export function batch(): tf.Tensor2D {
  return tf.tensor2d([[1, 5, 9, 2, 7, 30], [52, 0, 3, 3, 11, 4]], [2, 6], 'int32');
}

/** Gives every B random values, so the adapters change the outputs. */
export function randomizeB(a: LoraAdapters, seed: number): void {
  let i = 0;
  for (const s of a.bySite.values()) s.B.assign(tf.randomNormal(s.B.shape, 0, 0.3, 'float32', seed * 100 + i++));
}

