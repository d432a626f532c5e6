// An op with a hand-written backward whose input gradients are computed one by one, only for the inputs the
// gradient is asked of. tf.customGrad calls one backward function that must return every input's gradient at
// once, so a frozen weight (a variable left out of the trained list) would still cost its dW matrix product;
// here each input has its own gradient function, and TensorFlow.js's tape calls only those of inputs that lie
// on the path to a trained variable. This is what lets fine-tuning skip the dW of every frozen matrix.
import { tf } from './tf';

/** Saves tensors for the backward pass (kept only while a gradient tape records). */
export type SaveFn = (tensors: tf.Tensor[]) => void;

/** Given the upstream gradient and the saved tensors: one function per input that computes its gradient. */
export type LazyBackward = (dy: tf.Tensor, saved: tf.Tensor[]) => Array<() => tf.Tensor>;

interface KernelRunner {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: SaveFn) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor;
}

/**
 * Runs `forward(save)` as one op over `inputs`. In the backward pass `backward(dy, saved)` gives one function
 * per input, and only those of inputs the gradient is asked of are called.
 */
export function opWithLazyGrads(inputs: tf.Tensor[], forward: (save: SaveFn) => tf.Tensor, backward: LazyBackward): tf.Tensor {
  const inputMap: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (inputMap[i] = t));
  const engine = tf.engine() as unknown as KernelRunner;
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => forward(save),
    backwardsFunc: (dy, saved) => {
      const fns = backward(dy, saved);
      if (fns.length !== inputs.length) throw new Error(`opWithLazyGrads: ${inputs.length} inputs but ${fns.length} gradient functions`);
      const map: Record<string, () => tf.Tensor> = {};
      fns.forEach((f, i) => (map[i] = f));
      return map;
    },
    inputs: inputMap,
  });
}

/**
 * For a fused backward that yields several gradients in one pass (LayerNorm's dx, dγ, dβ): `compute` runs at
 * most once, on the first request, and each gradient function takes its part. Keep the parts as plain arrays
 * (not tensors): each request runs in its own tidy scope, which would dispose tensors made for another.
 */
export function sharedPass<T>(compute: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: compute() }).value;
}
