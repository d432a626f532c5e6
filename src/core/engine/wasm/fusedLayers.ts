// LayerNorm and GELU as single loops over the tensor memory (wasm heap or cpu arrays), forward and backward.
// The portable compositions run 7–10 small kernels forward and about twice that backward, many of them
// broadcasting (slow on wasm), each with its own temporary; here each pass is one loop and one output.
import { opWithLazyGrads, sharedPass } from '../lazyGrad';
import { tf } from '../tf';
import { floatView } from './views';

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** LayerNorm over the last axis, as ops.ts: x (..., C), gamma and beta (C). */
export function directLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const width = x.shape[x.shape.length - 1];
  return opWithLazyGrads(
    [x, gamma, beta],
    (save) => {
      save([x, gamma]);
      const y = tf.zerosLike(x); // (..., C), fresh: ours to write
      const [xv, gv, bv, yv] = [floatView(x), floatView(gamma), floatView(beta), floatView(y)];
      for (let row = 0; row < xv.length; row += width) {
        let mean = 0;
        for (let c = 0; c < width; c++) mean += xv[row + c];
        mean /= width;
        let variance = 0;
        for (let c = 0; c < width; c++) variance += (xv[row + c] - mean) ** 2;
        const rstd = 1 / Math.sqrt(variance / width + eps);
        for (let c = 0; c < width; c++) yv[row + c] = (xv[row + c] - mean) * rstd * gv[c] + bv[c];
      }
      return y;
    },
    (dy, [sx, sg]) => {
      // One pass yields dx, dγ and dβ (the two (C) sums ride along with dx); it runs once, on the first request.
      const pass = sharedPass(() => {
        const [xs, gs, dys] = [floatView(sx), floatView(sg), floatView(dy)];
        const dxv = new Float32Array(xs.length);
        const dgv = new Float32Array(width);
        const dbv = new Float32Array(width);
        const xhat = new Float64Array(width);
        for (let row = 0; row < xs.length; row += width) {
          let mean = 0;
          for (let c = 0; c < width; c++) mean += xs[row + c];
          mean /= width;
          let variance = 0;
          for (let c = 0; c < width; c++) variance += (xs[row + c] - mean) ** 2;
          const rstd = 1 / Math.sqrt(variance / width + eps);
          let sumD = 0; // Σ dxhat
          let sumDX = 0; // Σ dxhat·xhat
          for (let c = 0; c < width; c++) {
            const h = (xs[row + c] - mean) * rstd;
            xhat[c] = h;
            const d = dys[row + c] * gs[c];
            sumD += d;
            sumDX += d * h;
            dgv[c] += dys[row + c] * h;
            dbv[c] += dys[row + c];
          }
          const mD = sumD / width;
          const mDX = sumDX / width;
          for (let c = 0; c < width; c++) dxv[row + c] = rstd * (dys[row + c] * gs[c] - mD - xhat[c] * mDX);
        }
        return { dxv, dgv, dbv };
      });
      return [
        () => tf.tensor(pass().dxv, sx.shape, 'float32'),
        () => tf.tensor(pass().dgv, sg.shape, 'float32'),
        () => tf.tensor(pass().dbv, sg.shape, 'float32'),
      ];
    },
  );
}

/** GELU, tanh approximation as GPT-2: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function directGelu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((xi, save) => {
    (save as tf.GradSaveFunc)([xi as tf.Tensor]);
    const y = tf.zerosLike(xi as tf.Tensor); // fresh: ours to write
    const [xv, yv] = [floatView(xi as tf.Tensor), floatView(y)];
    for (let i = 0; i < xv.length; i++) {
      const v = xv[i];
      yv[i] = 0.5 * v * (1 + Math.tanh(GELU_K * (v + GELU_C * v * v * v)));
    }
    return {
      value: y,
      gradFunc: (dy, [sx]) => {
        const dx = tf.zerosLike(sx);
        const [xs, dys, dxv] = [floatView(sx), floatView(dy as tf.Tensor), floatView(dx)];
        for (let i = 0; i < xs.length; i++) {
          const v = xs[i];
          const t = Math.tanh(GELU_K * (v + GELU_C * v * v * v));
          const du = GELU_K * (1 + 3 * GELU_C * v * v);
          dxv[i] = dys[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
        }
        return dx;
      },
    };
  });
  return f(x);
}
