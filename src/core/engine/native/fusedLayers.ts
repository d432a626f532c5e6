// Native versions of the layer ops of ops.ts (linear, lmLogits, embedding, layerNorm, gelu, dropout), whose forward and
// backward both run in the C++ addon on the tensors' own arrays. The ops with weights compute each input's
// gradient only when asked for (lazyGrad.ts), so a frozen weight costs no dW product.
// Shapes: N rows, C channels, V vocabulary.
import * as tf from '@tensorflow/tfjs-core';
import { LlmLabError } from '../../errors';
import type { DropoutMask } from '../dropoutMask';
import { dropoutMask } from '../dropoutMask';
import { opWithLazyGrads, sharedPass } from '../lazyGrad';
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

/** dx = dy·wᵀ: dy (N, out), w (in, out) → (N, in). */
function linearDx(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const be = nativeBackend();
  const [n, inDim] = x.shape as number[];
  const outDim = (w.shape as number[])[1];
  const dx = be.take(n * inDim); // (N, in)
  be.addon.gemm(be.f32(dy), outDim, 1, be.f32(w), 1, outDim, dx, inDim, n, inDim, outDim, 1, 0, null, 1, 0, 0, 0, 0);
  return out(dx, [n, inDim]);
}

/** dw = xᵀ·dy: x (N, in), dy (N, out) → (in, out). Never run for a frozen weight (see lazyGrad.ts). */
function linearDw(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const be = nativeBackend();
  const [n, inDim] = x.shape as number[];
  const outDim = (w.shape as number[])[1];
  const dw = be.take(inDim * outDim); // (in, out)
  be.addon.gemm(be.f32(x), 1, inDim, be.f32(dy), outDim, 1, dw, outDim, inDim, outDim, n, 1, 0, null, 1, 0, 0, 0, 0);
  return out(dw, [inDim, outDim]);
}

/** db = Σ_rows dy: (N, out) → (out). */
function linearDb(dy: tf.Tensor): tf.Tensor {
  const be = nativeBackend();
  const [n, outDim] = dy.shape as number[];
  const db = be.take(outDim);
  be.addon.columnSums(be.f32(dy), n, outDim, db);
  return out(db, [outDim]);
}

/** x (N, in) · w (in, out) (+ b) with each input's gradient computed only when asked for. */
function linearOp(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  return opWithLazyGrads(
    b ? [x, w, b] : [x, w],
    (save) => {
      save([x, w]);
      return linearForward(x, w, b);
    },
    (dy, [sx, sw]) => {
      const fns = [() => linearDx(dy, sx, sw), () => linearDw(dy, sx, sw)];
      if (b) fns.push(() => linearDb(dy));
      return fns;
    },
  );
}

export function nativeLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const [inDim, outDim] = w.shape as number[];
  if (x.shape[x.rank - 1] !== inDim || x.dtype !== 'float32' || (b && b.size !== outDim)) return portable.linear(x, w, b);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inDim]); // (N, in)
    const y = linearOp(x2, w, b); // (N, out)
    return tf.reshape(y, [...lead, outDim]);
  });
}

/** Tied-head logits x·tableᵀ: x (N, C), table (V, C) → (N, V); gradients dx = dy·table, dtable = dyᵀ·x, each only when asked for. */
function lmLogitsOp(x: tf.Tensor, table: tf.Tensor): tf.Tensor {
  const [n, c] = x.shape as number[];
  const v = (table.shape as number[])[0];
  return opWithLazyGrads(
    [x, table],
    (save) => {
      const be = nativeBackend();
      save([x, table]);
      const y = be.take(n * v); // (N, V)
      be.addon.gemm(be.f32(x), c, 1, be.f32(table), 1, c, y, v, n, v, c, 1, 0, null, 1, 0, 0, 0, 0);
      return out(y, [n, v]);
    },
    (dy, [sx, st]) => [
      () => {
        const b = nativeBackend();
        const dx = b.take(n * c); // (N, C)
        b.addon.gemm(b.f32(dy), v, 1, b.f32(st), c, 1, dx, c, n, c, v, 1, 0, null, 1, 0, 0, 0, 0);
        return out(dx, [n, c]);
      },
      () => {
        const b = nativeBackend();
        const dt = b.take(v * c); // (V, C)
        b.addon.gemm(b.f32(dy), 1, v, b.f32(sx), c, 1, dt, c, v, c, n, 1, 0, null, 1, 0, 0, 0, 0);
        return out(dt, [v, c]);
      },
    ],
  );
}

export function nativeLmLogits(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== table.shape[1] || x.dtype !== 'float32') return portable.lmLogits(x, table);
  return lmLogitsOp(x, table) as tf.Tensor2D;
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

/**
 * LayerNorm of x (N, C). The native backward yields dx, dγ and dβ in one pass over the rows (the two (C) sums
 * ride along with dx); it runs once, when the first of them is asked for, and a frozen γ/β's part is dropped.
 */
function layerNormOp(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const [n, c] = x.shape as number[];
  return opWithLazyGrads(
    [x, gamma, beta],
    (save) => {
      const be = nativeBackend();
      const y = be.take(n * c); // (N, C)
      const mean = be.take(n);
      const rstd = be.take(n);
      be.addon.layerNormForward(be.f32(x), be.f32(gamma), be.f32(beta), n, c, eps, y, mean, rstd);
      save([x, gamma, out(mean, [n]), out(rstd, [n])]);
      return out(y, [n, c]);
    },
    (dy, [sx, sg, sm, sr]) => {
      const pass = sharedPass(() => {
        const b = nativeBackend();
        const dx = b.take(n * c);
        const dg = b.take(c);
        const db = b.take(c);
        b.addon.layerNormBackward(b.f32(dy), b.f32(sx), b.f32(sg), b.f32(sm), b.f32(sr), n, c, dx, dg, db);
        return { dx, dg, db };
      });
      return [() => out(pass().dx, [n, c]), () => out(pass().dg, [c]), () => out(pass().db, [c])];
    },
  );
}

export function nativeLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const c = x.shape[x.rank - 1];
  if (x.dtype !== 'float32' || gamma.size !== c || beta.size !== c) return portable.layerNorm(x, gamma, beta, eps);
  return tf.tidy(() => tf.reshape(layerNormOp(tf.reshape(x, [-1, c]), gamma, beta, eps), x.shape)); // (..., C)
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

/** x·(the mask's factors), in C++; the mask is regenerated rather than stored. */
function applyDropout(x: tf.Tensor, m: DropoutMask): tf.Tensor {
  const be = nativeBackend();
  const y = be.take(x.size);
  be.addon.dropoutApply(be.f32(x), y, x.size, m.threshold, m.k0, m.k1, m.scale);
  return out(y, x.shape);
}

/** Inverted dropout with the mask of dropoutMask.ts; its gradient is the same mask applied to dy. */
export function nativeDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  if (x.dtype !== 'float32') return portable.dropout(x, rate, seed);
  const m = dropoutMask(rate, seed);
  return tf.customGrad((xt) => ({ value: applyDropout(xt as tf.Tensor, m), gradFunc: (dy: tf.Tensor) => applyDropout(dy, m) }))(x);
}
