// Helpers for the engine op tests: seeded test data, closeness checks with a readable failure, and a guard
// that an op's forward and backward leave no tensors behind.
import * as assert from 'node:assert/strict';
import { tf } from '../../../../src/core/engine';

/** Deterministic numbers in [-scale, scale), from a small LCG (the same on every backend). */
export function seeded(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = (seed * 2654435761) >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 * scale - scale;
  }
  return tf.tensor(out, shape);
}

/** Deterministic ids in [0, vocab). */
export function seededIds(shape: number[], seed: number, vocab: number): tf.Tensor {
  const u = seeded(shape, seed, 1);
  const ids = Array.from(u.dataSync(), (x) => Math.floor(((x + 1) / 2) * vocab) % vocab);
  u.dispose();
  return tf.tensor(ids, shape, 'int32');
}

/** Asserts same shape and max |a − b| ≤ atol + rtol·max|b|; names the op in the message. */
export function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, atol = 1e-5, rtol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - e[i]));
    scale = Math.max(scale, Math.abs(e[i]));
  }
  assert.ok(Number.isFinite(worst), `${what}: not finite`);
  assert.ok(worst <= atol + rtol * scale, `${what}: max difference ${worst} (values up to ${scale})`);
}

/** Runs `body` twice (the first warms caches and kernels) and asserts the second left no tensors. */
export function assertNoLeak(body: () => void, what: string): void {
  body();
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, `${what} leaked tensors`);
}

/**
 * Gradients of sum(f(inputs) · weights) with respect to `inputs`, with fixed random weights so the incoming
 * gradient is not uniform. As in the model, the op's inputs are intermediates of a tidy that has ended before
 * the backward pass runs (so an op must save what its gradient needs). The caller disposes the results.
 */
export function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed = 99): { value: tf.Tensor; grads: tf.Tensor[] } {
  return tf.tidy(() => {
    const value = f(...inputs);
    const weights = seeded(value.shape, seed);
    const loss = (...xs: tf.Tensor[]): tf.Scalar =>
      tf.tidy(() => tf.sum(tf.mul(f(...xs.map((x) => tf.mul(x, 1))), weights)));
    const grads = tf.grads(loss)(inputs);
    return { value, grads };
  });
}
