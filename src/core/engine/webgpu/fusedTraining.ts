// Cross-entropy and the AdamW update as WGSL kernels. Cross-entropy keeps each row's log-sum-exp from the
// forward pass and writes the gradient softmax − one-hot in one pass over (N, V); nothing is read back (a target
// outside the vocabulary is not checked here: that would cost a read from the GPU each step). AdamW is three
// elementwise passes (m, v, then the parameter) instead of the portable version's dozen kernels.
import type { AdamWStep } from '../ops';
import { portable } from '../ops';
import { tf } from '../tf';
import { runKernel } from './program';

// STATS[2r] = log Σ_j exp(l_rj) (max first, as the reference's logSoftmax); STATS[2r+1] = the row's loss
// lse − l[target], or 0 for an ignored row.
const CE_ROWS = `
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let v = uniforms.vocab;
  let base = index * v;
  var m = -3.0e38;
  for (var j = 0; j < v; j++) { m = max(m, L[base + j]); }
  var s = 0.0;
  for (var j = 0; j < v; j++) { s += exp(L[base + j] - m); }
  let lse = m + log(s);
  let t = T[index];
  result[2 * index] = lse;
  if (t == uniforms.ignore) { result[2 * index + 1] = 0.0; }
  else { result[2 * index + 1] = lse - L[base + clamp(t, 0, v - 1)]; }
}`;

// dl = S · (softmax − one-hot) on kept rows, 0 on ignored ones; S = dy / (kept rows).
const CE_GRAD = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let r = index / uniforms.vocab;
  let j = index % uniforms.vocab;
  let t = T[r];
  if (t == uniforms.ignore) { result[index] = 0.0; return; }
  var g = exp(L[index] - STATS[2 * r]);
  if (j == t) { g -= 1.0; }
  result[index] = g * S[0];
}`;

function crossEntropyOp(ignoreIndex: number) {
  return tf.customGrad((logits, targets, save) => {
    const [lt, tt] = [logits as tf.Tensor2D, targets as tf.Tensor1D];
    const [n, vocab] = lt.shape;
    const stats = runKernel({
      name: 'ceRows', code: CE_ROWS, inputs: { L: lt, T: tt }, outShape: [n, 2], threads: n,
      uniforms: [['rows', 'i32', n], ['vocab', 'i32', vocab], ['ignore', 'i32', ignoreIndex]],
    });
    const count = tf.tidy(() => tf.maximum(tf.sum(tf.cast(tf.notEqual(tt, ignoreIndex), 'float32')), 1)); // ()
    const loss = tf.tidy(() => tf.div(tf.sum(tf.slice(stats, [0, 1], [n, 1])), count)) as tf.Scalar;
    (save as tf.GradSaveFunc)([lt, tt, stats, count]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, [sl, st, sstats, scount]: tf.Tensor[]) => {
        const s = tf.tidy(() => tf.reshape(tf.div(dy, scount), [1]));
        const dl = runKernel({
          name: 'ceGrad', code: CE_GRAD, inputs: { L: sl, T: st, STATS: sstats, S: s }, outShape: [n, vocab], threads: n * vocab,
          uniforms: [['n', 'i32', n * vocab], ['vocab', 'i32', vocab], ['ignore', 'i32', ignoreIndex]],
        });
        s.dispose();
        return [dl, tf.zerosLike(st)];
      },
    };
  });
}

export function webgpuCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, ignoreIndex = -100): tf.Scalar {
  if (logits.rank !== 2 || targets.rank !== 1 || logits.shape[0] !== targets.shape[0] || logits.dtype !== 'float32') {
    return portable.crossEntropy(logits, targets, ignoreIndex);
  }
  const f = crossEntropyOp(ignoreIndex);
  if (targets.dtype === 'int32') return f(logits, targets) as tf.Scalar;
  return tf.tidy(() => f(logits, tf.cast(targets, 'int32')) as tf.Scalar);
}

const ADAM_M = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  result[index] = uniforms.beta1 * M[index] + (1.0 - uniforms.beta1) * G[index];
}`;

const ADAM_V = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let g = G[index];
  result[index] = uniforms.beta2 * V[index] + (1.0 - uniforms.beta2) * g * g;
}`;

// p ← p·(1 − lr·wd) − lr · (m/bc1) / (√(v/bc2) + eps), with m and v already updated.
const ADAM_P = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let mHat = M[index] / uniforms.bc1;
  let vHat = V[index] / uniforms.bc2;
  result[index] = P[index] * uniforms.decay - uniforms.lr * (mHat / (sqrt(vHat) + uniforms.eps));
}`;

export function webgpuAdamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  const n = param.size;
  if (grad.size !== n || m.size !== n || v.size !== n || grad.dtype !== 'float32' || param.dtype !== 'float32') {
    portable.adamw(param, grad, m, v, h);
    return;
  }
  const shape = param.shape;
  const m1 = runKernel({ name: 'adamM', code: ADAM_M, inputs: { M: m, G: grad }, outShape: shape, threads: n, uniforms: [['n', 'i32', n], ['beta1', 'f32', h.beta1]] });
  const v1 = runKernel({ name: 'adamV', code: ADAM_V, inputs: { V: v, G: grad }, outShape: shape, threads: n, uniforms: [['n', 'i32', n], ['beta2', 'f32', h.beta2]] });
  const p1 = runKernel({
    name: 'adamP', code: ADAM_P, inputs: { P: param, M: m1, V: v1 }, outShape: shape, threads: n,
    uniforms: [['n', 'i32', n], ['bc1', 'f32', 1 - Math.pow(h.beta1, h.step)], ['bc2', 'f32', 1 - Math.pow(h.beta2, h.step)],
      ['decay', 'f32', 1 - h.lr * h.weightDecay], ['lr', 'f32', h.lr], ['eps', 'f32', h.eps]],
  });
  param.assign(p1);
  m.assign(m1);
  v.assign(v1);
  tf.dispose([p1, m1, v1]);
}
