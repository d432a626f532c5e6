// Engine micro-benchmarks for `npm run bench`: matmul throughput on the backend that runs now (call initEngine
// first). Speed lives here, never in the tests.
import { tf } from '../src/core/engine';

/** Times `f` (which returns a tensor it owns) `reps` times after one warm-up call; mean seconds per call. */
function timeOp(f: () => tf.Tensor, reps: number): number {
  const warm = f();
  warm.dataSync();
  warm.dispose();
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const y = f();
    y.dataSync(); // wait for the result (and read it, as a training step would)
    y.dispose();
  }
  return Number(process.hrtime.bigint() - start) / 1e9 / reps;
}

/**
 * GFLOP/s of an (m, k) × (k, n) matmul on the current backend: 2·m·k·n floating-point operations a call,
 * repeated until about half a second has been measured (at least 3 calls).
 */
export function benchMatmul(m: number, k: number, n: number): number {
  const a = tf.randomUniform([m, k], -1, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomUniform([k, n], -1, 1, 'float32', 2) as tf.Tensor2D;
  try {
    const once = timeOp(() => tf.matMul(a, b), 1);
    const reps = Math.max(3, Math.min(50, Math.ceil(0.5 / Math.max(once, 1e-6))));
    const seconds = timeOp(() => tf.matMul(a, b), reps);
    return (2 * m * k * n) / seconds / 1e9;
  } finally {
    a.dispose();
    b.dispose();
  }
}
