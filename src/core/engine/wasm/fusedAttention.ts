// Causal attention as plain loops over each (batch, head), forward and backward, for wasm and cpu. On wasm the
// portable version's batched matmuls run a naive kernel (XNNPACK takes only a batch of 1), and its mask, tile
// and softmax gradient add a dozen broadcasting kernels; these loops skip the masked half entirely and keep
// no (B, H, T, T) tensor. With attention dropout (training with dropRate > 0) the portable version runs, so
// its seeded masks stay exactly reproducible.
import type { AttentionOptions } from '../ops';
import { portable } from '../ops';
import { tf } from '../tf';
import { floatView } from './views';

interface Dims {
  heads: number; // B·H
  tq: number;
  tk: number;
  d: number;
  offset: number;
  scale: number;
}

/** Softmax weights of query row i of head h into `p` (length tk; zeros past the causal limit). Returns limit. */
function rowWeights(q: Float32Array, k: Float32Array, h: number, i: number, dims: Dims, p: Float64Array): number {
  const { tq, tk, d, offset, scale } = dims;
  const qo = (h * tq + i) * d;
  const limit = Math.min(offset + i, tk - 1);
  let max = -Infinity;
  for (let j = 0; j <= limit; j++) {
    const ko = (h * tk + j) * d;
    let s = 0;
    for (let c = 0; c < d; c++) s += q[qo + c] * k[ko + c];
    s *= scale;
    p[j] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let j = 0; j <= limit; j++) {
    p[j] = Math.exp(p[j] - max);
    sum += p[j];
  }
  for (let j = 0; j <= limit; j++) p[j] /= sum;
  for (let j = limit + 1; j < tk; j++) p[j] = 0;
  return limit;
}

function dimsOf(q: tf.Tensor, k: tf.Tensor, offset: number): Dims {
  const [b, h, tq, d] = q.shape as [number, number, number, number];
  return { heads: b * h, tq, tk: k.shape[2] as number, d, offset, scale: 1 / Math.sqrt(d) };
}

function forward(qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor, dims: Dims): tf.Tensor {
  const out = tf.zerosLike(qt); // (B, H, Tq, D), fresh: ours to write
  const [q, k, v, o] = [floatView(qt), floatView(kt), floatView(vt), floatView(out)];
  const { heads, tq, tk, d } = dims;
  const p = new Float64Array(tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      const limit = rowWeights(q, k, h, i, dims, p);
      const oo = (h * tq + i) * d;
      for (let j = 0; j <= limit; j++) {
        const vo = (h * tk + j) * d;
        const w = p[j];
        for (let c = 0; c < d; c++) o[oo + c] += w * v[vo + c];
      }
    }
  }
  return out;
}

function backward(dyt: tf.Tensor, qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor, dims: Dims): tf.Tensor[] {
  const grads = [tf.zerosLike(qt), tf.zerosLike(kt), tf.zerosLike(vt)]; // fresh: ours to write
  const [q, k, v, dy] = [floatView(qt), floatView(kt), floatView(vt), floatView(dyt)];
  const [dq, dk, dv] = grads.map(floatView);
  const { heads, tq, tk, d, scale } = dims;
  const p = new Float64Array(tk);
  const dp = new Float64Array(tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      const limit = rowWeights(q, k, h, i, dims, p);
      const qo = (h * tq + i) * d;
      let dot = 0; // Σ_j p_j · dp_j
      for (let j = 0; j <= limit; j++) {
        const vo = (h * tk + j) * d;
        let s = 0;
        for (let c = 0; c < d; c++) {
          s += dy[qo + c] * v[vo + c];
          dv[vo + c] += p[j] * dy[qo + c];
        }
        dp[j] = s;
        dot += p[j] * s;
      }
      for (let j = 0; j <= limit; j++) {
        const ds = p[j] * (dp[j] - dot) * scale;
        const ko = (h * tk + j) * d;
        for (let c = 0; c < d; c++) {
          dq[qo + c] += ds * k[ko + c];
          dk[ko + c] += ds * q[qo + c];
        }
      }
    }
  }
  return grads;
}

/** The softmaxed weights, (B, H, Tq, Tk), for attention maps; no gradient. */
function weightsOf(qt: tf.Tensor, kt: tf.Tensor, dims: Dims): tf.Tensor4D {
  const { heads, tq, tk } = dims;
  const all = new Float32Array(heads * tq * tk);
  const [q, k] = [floatView(qt), floatView(kt)];
  const p = new Float64Array(tk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tq; i++) {
      rowWeights(q, k, h, i, dims, p);
      all.set(p, (h * tq + i) * tk);
    }
  }
  const [b, h] = qt.shape as [number, number];
  return tf.tensor4d(all, [b, h, tq, tk]);
}

/** Causal attention as ops.causalAttention: q (B, H, Tq, D), k and v (B, H, offset+Tq, D) → (B, H, Tq, D). */
export function directCausalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  opts: AttentionOptions = {},
): { out: tf.Tensor4D; weights?: tf.Tensor4D } {
  if ((opts.dropRate ?? 0) > 0) return portable.causalAttention(q, k, v, opts);
  const dims = dimsOf(q, k, opts.offset ?? 0);
  const f = tf.customGrad((qi, ki, vi, save) => {
    (save as tf.GradSaveFunc)([qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor]);
    return {
      value: forward(qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor, dims),
      gradFunc: (dy, [sq, sk, sv]) => backward(dy as tf.Tensor, sq, sk, sv, dims),
    };
  });
  const out = f(q, k, v) as tf.Tensor4D;
  return opts.returnWeights ? { out, weights: weightsOf(q, k, dims) } : { out };
}
