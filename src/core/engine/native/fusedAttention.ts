// Native causal attention (forward and backward in C++), with the semantics of ops.causalAttention:
// q (B, H, Tq, D), k and v (B, H, Tk, D), Tk = offset + Tq; query i sees keys 0..offset+i. Only the per-row
// log-sum-exp is kept for the gradient, which recomputes the weights. Attention dropout uses the mask of
// dropoutMask.ts over the (B, H, Tq, Tk) weights, regenerated in both passes, as the portable op draws it.
import * as tf from '@tensorflow/tfjs-core';
import type { DropoutMask } from '../dropoutMask';
import { dropoutMask } from '../dropoutMask';
import type { AttentionOptions } from '../ops';
import { portable } from '../ops';
import { nativeBackend } from './backend';

function attentionGrad(offset: number, drop: DropoutMask | undefined, weightsOut?: { values?: Float32Array }) {
  const dropArgs: [number, number, number, number] | [] = drop ? [drop.threshold, drop.k0, drop.k1, drop.scale] : [];
  return tf.customGrad((q, k, v, save) => {
    const be = nativeBackend();
    const qt = q as tf.Tensor4D;
    const kt = k as tf.Tensor4D;
    const vt = v as tf.Tensor4D;
    const [b, h, tq, d] = qt.shape as number[];
    const tk = (kt.shape as number[])[2];
    const bh = b * h;
    const o = be.take(bh * tq * d); // (B, H, Tq, D)
    const lse = be.take(bh * tq); // (B, H, Tq)
    const w = weightsOut ? be.take(bh * tq * tk) : null; // (B, H, Tq, Tk)
    be.addon.attentionForward(be.f32(qt), be.f32(kt), be.f32(vt), bh, tq, tk, d, offset, o, lse, w, ...dropArgs);
    if (weightsOut && w) weightsOut.values = w;
    const value = tf.tensor(o, qt.shape, 'float32');
    (save as tf.GradSaveFunc)([qt, kt, vt, value, tf.tensor(lse, [bh, tq], 'float32')]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sq, sk, sv, so, sl]: tf.Tensor[]) => {
        const n = nativeBackend();
        const dq = n.take(bh * tq * d);
        const dk = n.take(bh * tk * d);
        const dv = n.take(bh * tk * d);
        n.addon.attentionBackward(n.f32(sq), n.f32(sk), n.f32(sv), n.f32(so), n.f32(dy), n.f32(sl), bh, tq, tk, d, offset, dq, dk, dv, ...dropArgs);
        return [
          tf.tensor(dq, sq.shape, 'float32'),
          tf.tensor(dk, sk.shape, 'float32'),
          tf.tensor(dv, sv.shape, 'float32'),
        ];
      },
    };
  });
}

export function nativeCausalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  opts: AttentionOptions = {},
): { out: tf.Tensor4D; weights?: tf.Tensor4D } {
  const offset = opts.offset ?? 0;
  const [b, h, tq, d] = q.shape as number[];
  const fits =
    q.rank === 4 && k.rank === 4 && v.rank === 4 &&
    tf.util.arraysEqual(k.shape, v.shape) && k.shape[0] === b && k.shape[1] === h && k.shape[3] === d &&
    k.shape[2] === offset + tq && q.dtype === 'float32' && k.dtype === 'float32' && v.dtype === 'float32';
  if (!fits) return portable.causalAttention(q, k, v, opts);
  const rate = opts.dropRate ?? 0;
  const drop = rate > 0 ? dropoutMask(rate, opts.seed ?? 0) : undefined;
  const holder: { values?: Float32Array } = {};
  const outT = attentionGrad(offset, drop, opts.returnWeights ? holder : undefined)(q, k, v) as tf.Tensor4D;
  if (!opts.returnWeights || !holder.values) return { out: outT };
  // The weights are for looking at (attention maps); gradients flow through `out` only.
  return { out: outT, weights: tf.tensor(holder.values, [b, h, tq, k.shape[2]], 'float32') as tf.Tensor4D };
}
