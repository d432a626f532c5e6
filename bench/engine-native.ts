// Kernel benchmarks of the native backend (`npm run bench -- --only kernels`): the GEMMs of the tied head
// and of a `small` block, cross-entropy over the 50,257-token vocabulary, LayerNorm, attention and AdamW,
// each timed through the fused ops on the 'native' backend (best of a few runs, milliseconds).
import { tf } from '../src/core/engine';
import * as ops from '../src/core/engine/ops';

export interface KernelTiming {
  name: string;
  ms: number;
  note: string;
}

function best(fn: () => void, reps: number): number {
  fn();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

const gflops = (flops: number, ms: number): string => `${(flops / (ms / 1000) / 1e9).toFixed(1)} GFLOP/s`;

/** Times the heavy kernels of one training step on the active (native) backend. */
export function benchNativeKernels(): KernelTiming[] {
  const rows: KernelTiming[] = [];
  const V = 50257;
  const N = 512;
  for (const C of [64, 256]) {
    const x = tf.randomNormal([N, C]) as tf.Tensor2D;
    const table = tf.randomNormal([V, C], 0, 0.02) as tf.Tensor2D;
    const dy = tf.randomNormal([N, V]) as tf.Tensor2D;
    const flops = 2 * N * C * V;
    const fwd = best(() => tf.tidy(() => {
      ops.lmLogits(x, table);
    }), 3);
    rows.push({ name: `head fwd ${N}×${C} · ${C}×${V}`, ms: fwd, note: gflops(flops, fwd) });
    const dx = best(() => tf.tidy(() => {
      tf.matMul(dy, table);
    }), 3);
    rows.push({ name: `head dx ${N}×${V} · ${V}×${C}`, ms: dx, note: gflops(flops, dx) });
    const dw = best(() => tf.tidy(() => {
      tf.matMul(dy, x, true, false);
    }), 3);
    rows.push({ name: `head dW ${V}×${N} · ${N}×${C}`, ms: dw, note: gflops(flops, dw) });
    [x, table, dy].forEach((t) => t.dispose());
  }
  const logits = tf.randomNormal([N, V]) as tf.Tensor2D;
  const targets = tf.randomUniform([N], 0, V, 'int32') as tf.Tensor1D;
  const ce = best(() => tf.tidy(() => {
      ops.crossEntropy(logits, targets);
    }), 3);
  rows.push({ name: `cross-entropy fwd ${N}×${V}`, ms: ce, note: '' });
  const ceGrad = best(() => tf.tidy(() => {
      tf.grad((l: tf.Tensor) => ops.crossEntropy(l as tf.Tensor2D, targets))(logits);
    }), 3);
  rows.push({ name: `cross-entropy fwd+bwd ${N}×${V}`, ms: ceGrad, note: '' });
  [logits, targets].forEach((t) => t.dispose());

  const C = 256;
  const a = tf.randomNormal([N, C]) as tf.Tensor2D;
  const w = tf.randomNormal([C, 4 * C]) as tf.Tensor2D;
  const b = tf.zeros([4 * C]) as tf.Tensor1D;
  const mlp = best(() => tf.tidy(() => {
      ops.linear(a, w, b);
    }), 10);
  rows.push({ name: `linear ${N}×${C} · ${C}×${4 * C}`, ms: mlp, note: gflops(2 * N * C * 4 * C, mlp) });
  const g = tf.ones([C]) as tf.Tensor1D;
  const ln = best(() => tf.tidy(() => {
      ops.layerNorm(a, g, g);
    }), 10);
  rows.push({ name: `layerNorm ${N}×${C}`, ms: ln, note: '' });
  const q = tf.randomNormal([4, 4, 128, 64]) as tf.Tensor4D;
  const att = best(() => tf.tidy(() => {
      ops.causalAttention(q, q, q);
    }), 10);
  rows.push({ name: 'attention fwd B4 H4 T128 D64', ms: att, note: '' });
  const attGrad = best(
    () => tf.tidy(() => {
      tf.grad((t: tf.Tensor) => tf.sum(ops.causalAttention(t as tf.Tensor4D, q, q).out))(q);
    }),
    5,
  );
  rows.push({ name: 'attention fwd+bwd B4 H4 T128 D64', ms: attGrad, note: '' });
  [a, w, b, g, q].forEach((t) => t.dispose());

  const n = 16_000_000;
  const p = tf.variable(tf.randomNormal([n]));
  const m = tf.variable(tf.zeros([n]));
  const v = tf.variable(tf.zeros([n]));
  const grad = tf.randomNormal([n]);
  let step = 0;
  const adam = best(() => ops.adamw(p, grad, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: ++step }), 3);
  rows.push({ name: 'adamw 16M parameters', ms: adam, note: `${((n * 4 * 7) / (adam / 1000) / 1e9).toFixed(1)} GB/s` });
  [p, m, v, grad].forEach((t) => t.dispose());
  return rows;
}
