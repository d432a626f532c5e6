// Native cross-entropy (fused log-softmax + NLL; the gradient softmax − onehot is written straight into
// one (N, V) buffer) and the AdamW update done in place on the parameter's and moments' own arrays.
import * as tf from '@tensorflow/tfjs-core';
import { LlmLabError } from '../../errors';
import type { AdamWStep } from '../ops';
import { portable } from '../ops';
import { nativeBackend } from './backend';

function crossEntropyGrad(ignoreIndex: number) {
  return tf.customGrad((logits, targets, save) => {
    const be = nativeBackend();
    const lt = logits as tf.Tensor2D;
    const tt = targets as tf.Tensor1D;
    const [n, v] = lt.shape as number[];
    const tv = be.i32(tt);
    for (let i = 0; i < n; i++) {
      const t = tv[i];
      if (t !== ignoreIndex && (t < 0 || t >= v)) {
        throw new LlmLabError(
          'bad-argument',
          `Target token id ${t} (row ${i}) is outside the vocabulary of ${v}; use ids in [0, ${v}) or ${ignoreIndex} to skip a position.`,
        );
      }
    }
    const lse = be.take(n); // (N)
    const [sum, count] = be.addon.crossEntropyForward(be.f32(lt), tv, n, v, ignoreIndex, lse);
    const denom = Math.max(count, 1);
    (save as tf.GradSaveFunc)([lt, tt, tf.tensor(lse, [n], 'float32')]);
    return {
      value: tf.scalar(sum / denom, 'float32'),
      gradFunc: (dy: tf.Tensor, [sl, st, slse]: tf.Tensor[]) => {
        const b = nativeBackend();
        const scale = b.f32(dy)[0] / denom;
        const dl = b.take(n * v); // (N, V)
        b.addon.crossEntropyBackward(b.f32(sl), b.i32(st), b.f32(slse), n, v, ignoreIndex, scale, dl);
        return [tf.tensor(dl, [n, v], 'float32'), tf.zeros(st.shape)];
      },
    };
  });
}
const byIgnore = new Map<number, ReturnType<typeof crossEntropyGrad>>();

export function nativeCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, ignoreIndex = -100): tf.Scalar {
  if (logits.rank !== 2 || targets.rank !== 1 || logits.shape[0] !== targets.shape[0] || logits.dtype !== 'float32') {
    return portable.crossEntropy(logits, targets, ignoreIndex);
  }
  let f = byIgnore.get(ignoreIndex);
  if (!f) byIgnore.set(ignoreIndex, (f = crossEntropyGrad(ignoreIndex)));
  const fn = f;
  if (targets.dtype === 'int32') return fn(logits, targets) as tf.Scalar;
  return tf.tidy(() => fn(logits, tf.cast(targets, 'int32')) as tf.Scalar);
}

/** The variable's data, made private to it first if another tensor shares the buffer (so in-place is safe). */
function ownedValues(variable: tf.Variable): Float32Array {
  const be = nativeBackend();
  if (variable.dtype !== 'float32') throw new Error(`adamw needs float32 variables, got ${variable.dtype}`);
  if (be.refCount(variable.dataId) > 1 || !(be.data.get(variable.dataId).values instanceof Float32Array)) {
    const fresh = be.take(variable.size);
    fresh.set(be.f32(variable)); // a memcpy
    const copy = tf.tensor(fresh, variable.shape, 'float32');
    variable.assign(copy);
    copy.dispose();
  }
  return be.f32(variable);
}

export function nativeAdamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  const n = param.size;
  if (grad.size !== n || m.size !== n || v.size !== n || grad.dtype !== 'float32') {
    portable.adamw(param, grad, m, v, h);
    return;
  }
  const be = nativeBackend();
  const p = ownedValues(param);
  const mv = ownedValues(m);
  const vv = ownedValues(v);
  be.addon.adamw(p, be.f32(grad), mv, vv, n, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.step);
}
