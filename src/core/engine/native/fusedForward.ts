// The native backend's one-call forward pass for generation (native/src/decode.cc), over the weights' own
// arrays: no tensor is created, nothing is copied but the logits row.
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedGptForward } from '../fusedForward';
import { nativeBackend } from './backend';

const NONE = new Float32Array(0);

export const nativeGptForward: FusedGptForward = (weights, shape, ids, pos0, cache) => {
  const be = nativeBackend();
  const arrays = weights.map((w: tf.Tensor | undefined) => (w ? be.f32(w) : NONE));
  const logits = new Float32Array(shape.vocabSize);
  const dims = [shape.nLayers, shape.embDim, shape.nHeads, shape.contextLength, shape.vocabSize];
  be.addon.gptForward(arrays, dims, ids, ids.length, pos0, cache.k, cache.v, logits);
  return logits;
};
