// Native versions of the layer ops of ops.ts (linear, lmLogits, embedding, layerNorm, gelu), each a
// tf.customGrad whose forward and backward both run in the C++ addon on the tensors' own arrays.
// Shapes: N rows, C channels, V vocabulary.
import * as tf from '@tensorflow/tfjs-core';
import { LlmLabError } from '../../errors';
import { portable } from '../ops';
import { nativeBackend } from './backend';

type Saver = tf.GradSaveFunc;
const out = (values: Float32Array, shape: number[]): tf.Tensor => tf.tensor(values, shape, 'float32');

/** y = x·w (+ b): x (N, in), w (in, out) → (N, out). */
function linearForward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  const be = nativeBackend();
  const [n, inDim] = x.shape as number[];
  const outDim = (w.shape as number[])[1];
  const y = be.take(n * outDim); // (N, out)
  be.addon.gemm(be.f32(x), inDim, 1, be.f32(w), outDim, 1, y, outDim, n, outDim, inDim, 1, 0, b ? be.f32(b) : null, 1, 0, 0, 0, 0);
  return out(y, [n, outDim]);
}

/** dx = dy·wᵀ, dw = xᵀ·dy, db = Σ_rows dy. */
function linearBackward(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor, withBias: boolean): tf.Tensor[] {
  const be = nativeBackend();
  const [n, inDim] = x.shape as number[];
  const outDim = (w.shape as number[])[1];
  const dyv = be.f32(dy);
  const dx = be.take(n * inDim); // (N, in)
  be.addon.gemm(dyv, outDim, 1, be.f32(w), 1, outDim, dx, inDim, n, inDim, outDim, 1, 0, null, 1, 0, 0, 0, 0);
  const dw = be.take(inDim * outDim); // (in, out)
  be.addon.gemm(be.f32(x), 1, inDim, dyv, outDim, 1, dw, outDim, inDim, outDim, n, 1, 0, null, 1, 0, 0, 0, 0);
  const grads = [out(dx, [n, inDim]), out(dw, [inDim, outDim])];
  if (withBias) {
    const db = be.take(outDim);
    be.addon.columnSums(dyv, n, outDim, db);
    grads.push(out(db, [outDim]));
  }
  return grads;
}

const linearBias = tf.customGrad((x, w, b, save) => {
  (save as Saver)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: linearForward(x as tf.Tensor, w as tf.Tensor, b as tf.Tensor),
    gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => linearBackward(dy, sx, sw, true),
  };
});

const linearNoBias = tf.customGrad((x, w, save) => {
  (save as Saver)([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: linearForward(x as tf.Tensor, w as tf.Tensor, undefined),
    gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => linearBackward(dy, sx, sw, false),
  };
});

export function nativeLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const [inDim, outDim] = w.shape as number[];
  if (x.shape[x.rank - 1] !== inDim || x.dtype !== 'float32' || (b && b.size !== outDim)) return portable.linear(x, w, b);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inDim]); // (N, in)
    const y = b ? linearBias(x2, w, b) : linearNoBias(x2, w); // (N, out)
    return tf.reshape(y, [...lead, outDim]);
  });
}

/** Tied-head logits x·tableᵀ: x (N, C), table (V, C) → (N, V); gradients dx = dy·table, dtable = dyᵀ·x. */
const lmLogitsGrad = tf.customGrad((x, table, save) => {
  const be = nativeBackend();
  const xt = x as tf.Tensor;
  const tt = table as tf.Tensor;
  const [n, c] = xt.shape as number[];
  const v = (tt.shape as number[])[0];
  (save as Saver)([xt, tt]);
  const y = be.take(n * v); // (N, V)
  be.addon.gemm(be.f32(xt), c, 1, be.f32(tt), 1, c, y, v, n, v, c, 1, 0, null, 1, 0, 0, 0, 0);
  return {
    value: out(y, [n, v]),
    gradFunc: (dy: tf.Tensor, [sx, st]: tf.Tensor[]) => {
      const b = nativeBackend();
      const dyv = b.f32(dy);
      const dx = b.take(n * c); // (N, C)
      b.addon.gemm(dyv, v, 1, b.f32(st), c, 1, dx, c, n, c, v, 1, 0, null, 1, 0, 0, 0, 0);
      const dt = b.take(v * c); // (V, C)
      b.addon.gemm(dyv, 1, v, b.f32(sx), c, 1, dt, c, v, c, n, 1, 0, null, 1, 0, 0, 0, 0);
      return [out(dx, [n, c]), out(dt, [v, c])];
    },
  };
});

export function nativeLmLogits(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== table.shape[1] || x.dtype !== 'float32') return portable.lmLogits(x, table);
  return lmLogitsGrad(x, table) as tf.Tensor2D;
}

const embeddingGrad = tf.customGrad((ids, table, save) => {
  const be = nativeBackend();
  const it = ids as tf.Tensor;
  const tt = table as tf.Tensor;
  const [rows, c] = tt.shape as number[];
  const n = it.size;
  (save as Saver)([it]);
  const y = be.take(n * c); // (B, T, C)
  const idv = be.i32(it);
  const bad = be.addon.embeddingForward(idv, n, be.f32(tt), rows, c, y);
  if (bad >= 0) {
    throw new LlmLabError(
      'bad-argument',
      `Token id ${idv[bad]} (position ${bad}) is outside the embedding table's ${rows} rows; the tokenizer and the model's vocabSize do not match.`,
    );
  }
  return {
    value: out(y, [...it.shape, c]),
    gradFunc: (dy: tf.Tensor, [sids]: tf.Tensor[]) => {
      const b = nativeBackend();
      const dt = b.take(rows * c); // (V, C)
      b.addon.embeddingBackward(b.i32(sids), n, b.f32(dy), rows, c, dt);
      return [tf.zeros(sids.shape), out(dt, [rows, c])];
    },
  };
});

export function nativeEmbedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  if (ids.dtype !== 'int32' || table.dtype !== 'float32') return portable.embedding(ids, table);
  return embeddingGrad(ids, table) as tf.Tensor3D;
}

function layerNormGrad(eps: number) {
  return tf.customGrad((x, gamma, beta, save) => {
    const be = nativeBackend();
    const xt = x as tf.Tensor;
    const [n, c] = xt.shape as number[];
    const y = be.take(n * c); // (N, C)
    const mean = be.take(n);
    const rstd = be.take(n);
    be.addon.layerNormForward(be.f32(xt), be.f32(gamma as tf.Tensor), be.f32(beta as tf.Tensor), n, c, eps, y, mean, rstd);
    (save as Saver)([xt, gamma as tf.Tensor, out(mean, [n]), out(rstd, [n])]);
    return {
      value: out(y, [n, c]),
      gradFunc: (dy: tf.Tensor, [sx, sg, sm, sr]: tf.Tensor[]) => {
        const b = nativeBackend();
        const dx = b.take(n * c);
        const dg = b.take(c);
        const db = b.take(c);
        b.addon.layerNormBackward(b.f32(dy), b.f32(sx), b.f32(sg), b.f32(sm), b.f32(sr), n, c, dx, dg, db);
        return [out(dx, [n, c]), out(dg, [c]), out(db, [c])];
      },
    };
  });
}
const layerNormByEps = new Map<number, ReturnType<typeof layerNormGrad>>();

export function nativeLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const c = x.shape[x.rank - 1];
  if (x.dtype !== 'float32' || gamma.size !== c || beta.size !== c) return portable.layerNorm(x, gamma, beta, eps);
  let f = layerNormByEps.get(eps);
  if (!f) layerNormByEps.set(eps, (f = layerNormGrad(eps)));
  const fn = f;
  return tf.tidy(() => tf.reshape(fn(tf.reshape(x, [-1, c]), gamma, beta), x.shape)); // (..., C)
}

const geluGrad = tf.customGrad((x, save) => {
  const be = nativeBackend();
  const xt = x as tf.Tensor;
  (save as Saver)([xt]);
  const y = be.take(xt.size);
  be.addon.geluForward(be.f32(xt), y, xt.size);
  return {
    value: out(y, xt.shape),
    gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => {
      const b = nativeBackend();
      const dx = b.take(sx.size);
      b.addon.geluBackward(b.f32(sx), b.f32(dy), dx, sx.size);
      return out(dx, sx.shape);
    },
  };
});

export function nativeGelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32') return portable.gelu(x);
  return geluGrad(x);
}
