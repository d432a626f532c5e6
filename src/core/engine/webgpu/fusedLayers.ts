// WebGPU versions of the layer ops of ops.ts: GELU and LayerNorm as WGSL kernels (one pass forward, one or two
// backward, instead of the portable version's 7–20 small kernels and their temporaries), the embedding lookup
// and its scatter-add gradient without atomics, and linear / lmLogits on TensorFlow.js's tiled WGSL matmul with
// the bias added inside it. Shapes: N rows, C channels, V vocabulary.
import { portable } from '../ops';
import { tf } from '../tf';
import { runKernel } from './program';

const GELU_K = Math.sqrt(2 / Math.PI);

// tanh of a clamped argument: WGSL's tanh may overflow to NaN for |u| ≳ 44 (sinh/cosh), and tanh(±15) is ±1 in f32.
const GELU_FORWARD = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let x = X[index];
  let t = tanh(clamp(${GELU_K} * (x + 0.044715 * x * x * x), -15.0, 15.0));
  result[index] = 0.5 * x * (1.0 + t);
}`;

const GELU_BACKWARD = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let x = X[index];
  let t = tanh(clamp(${GELU_K} * (x + 0.044715 * x * x * x), -15.0, 15.0));
  let du = ${GELU_K} * (1.0 + 3.0 * 0.044715 * x * x);
  result[index] = DY[index] * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du);
}`;

const geluOp = tf.customGrad((x, save) => {
  const xt = x as tf.Tensor;
  (save as tf.GradSaveFunc)([xt]);
  const n = xt.size;
  return {
    value: runKernel({ name: 'gelu', code: GELU_FORWARD, inputs: { X: xt }, outShape: xt.shape, threads: n, uniforms: [['n', 'i32', n]] }),
    gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) =>
      runKernel({ name: 'geluGrad', code: GELU_BACKWARD, inputs: { X: sx, DY: dy }, outShape: sx.shape, threads: n, uniforms: [['n', 'i32', n]] }),
  };
});

export function webgpuGelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32') return portable.gelu(x);
  return geluOp(x);
}

// Row statistics: STATS[2r] = mean, STATS[2r+1] = 1/sqrt(var + eps) (two passes over the row, as the reference).
const LN_STATS = `
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let w = uniforms.width;
  let base = index * w;
  var mean = 0.0;
  for (var c = 0; c < w; c++) { mean += X[base + c]; }
  mean = mean / f32(w);
  var v = 0.0;
  for (var c = 0; c < w; c++) { let d = X[base + c] - mean; v += d * d; }
  result[2 * index] = mean;
  result[2 * index + 1] = inverseSqrt(v / f32(w) + uniforms.eps);
}`;

const LN_FORWARD = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let r = index / uniforms.width;
  let c = index % uniforms.width;
  result[index] = (X[index] - STATS[2 * r]) * STATS[2 * r + 1] * G[c] + B[c];
}`;

// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · gamma, one thread per row.
const LN_DX = `
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let w = uniforms.width;
  let base = index * w;
  let mean = STATS[2 * index];
  let rstd = STATS[2 * index + 1];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = 0; c < w; c++) {
    let g = DY[base + c] * G[c];
    sg += g;
    sgx += g * (X[base + c] - mean) * rstd;
  }
  sg = sg / f32(w);
  sgx = sgx / f32(w);
  for (var c = 0; c < w; c++) {
    let xh = (X[base + c] - mean) * rstd;
    result[base + c] = rstd * (DY[base + c] * G[c] - sg - xh * sgx);
  }
}`;

// dgamma (uniforms.beta 0) or dbeta (1), one thread per column summing over the rows.
const LN_DPARAM = `
fn main(index : i32) {
  if (index >= uniforms.width) { return; }
  let w = uniforms.width;
  var s = 0.0;
  for (var r = 0; r < uniforms.rows; r++) {
    let dy = DY[r * w + index];
    if (uniforms.beta == 1) { s += dy; } else { s += dy * (X[r * w + index] - STATS[2 * r]) * STATS[2 * r + 1]; }
  }
  result[index] = s;
}`;

function layerNormOp(eps: number) {
  return tf.customGrad((x, gamma, beta, save) => {
    const xt = x as tf.Tensor;
    const width = xt.shape[xt.rank - 1];
    const rows = xt.size / width;
    const dims: [string, 'i32', number][] = [['rows', 'i32', rows], ['width', 'i32', width]];
    const stats = runKernel({ name: 'lnStats', code: LN_STATS, inputs: { X: xt }, outShape: [rows, 2], threads: rows, uniforms: [...dims, ['eps', 'f32', eps]] });
    (save as tf.GradSaveFunc)([xt, gamma as tf.Tensor, stats]);
    const y = runKernel({
      name: 'lnForward', code: LN_FORWARD, inputs: { X: xt, STATS: stats, G: gamma as tf.Tensor, B: beta as tf.Tensor },
      outShape: xt.shape, threads: xt.size, uniforms: [['n', 'i32', xt.size], ['width', 'i32', width]],
    });
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sg, sst]: tf.Tensor[]) => {
        const dx = runKernel({ name: 'lnDx', code: LN_DX, inputs: { X: sx, DY: dy, G: sg, STATS: sst }, outShape: sx.shape, threads: rows, uniforms: dims });
        const dparam = (which: number): tf.Tensor =>
          runKernel({ name: 'lnDparam', code: LN_DPARAM, inputs: { X: sx, DY: dy, STATS: sst }, outShape: [width], threads: width, uniforms: [...dims, ['beta', 'i32', which]] });
        return [dx, dparam(0), dparam(1)];
      },
    };
  });
}

export function webgpuLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const width = x.shape[x.rank - 1];
  if (x.dtype !== 'float32' || gamma.size !== width || beta.size !== width) return portable.layerNorm(x, gamma, beta, eps);
  return layerNormOp(eps)(x, gamma, beta);
}

const EMBED_FORWARD = `
fn main(index : i32) {
  if (index >= uniforms.n) { return; }
  let w = uniforms.width;
  let id = clamp(IDS[index / w], 0, uniforms.vocab - 1);
  result[index] = TABLE[id * w + index % w];
}`;

// The table gradient without atomics: thread (slice s, column c) owns rows [s·span, (s+1)·span) of column c,
// zeroes them, then adds every position whose id falls in them. No two threads write the same element.
const EMBED_BACKWARD = `
fn main(index : i32) {
  let w = uniforms.width;
  if (index >= w * uniforms.slices) { return; }
  let c = index % w;
  let lo = (index / w) * uniforms.span;
  let hi = min(lo + uniforms.span, uniforms.vocab);
  for (var v = lo; v < hi; v++) { result[v * w + c] = 0.0; }
  for (var n = 0; n < uniforms.count; n++) {
    let id = IDS[n];
    if (id >= lo && id < hi) { result[id * w + c] += DY[n * w + c]; }
  }
}`;

export function webgpuEmbedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  if (ids.dtype !== 'int32' || table.dtype !== 'float32') return portable.embedding(ids, table);
  const [vocab, width] = table.shape;
  const [b, t] = ids.shape;
  const f = tf.customGrad((tableIn, idsIn, save) => {
    (save as tf.GradSaveFunc)([idsIn as tf.Tensor]);
    const n = b * t * width;
    const value = runKernel({
      name: 'embed', code: EMBED_FORWARD, inputs: { IDS: idsIn as tf.Tensor, TABLE: tableIn as tf.Tensor }, outShape: [b, t, width], threads: n,
      uniforms: [['n', 'i32', n], ['width', 'i32', width], ['vocab', 'i32', vocab]],
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sids]: tf.Tensor[]) => {
        const slices = Math.min(vocab, 64);
        const span = Math.ceil(vocab / slices);
        const dTable = runKernel({
          name: 'embedGrad', code: EMBED_BACKWARD, inputs: { IDS: sids, DY: dy }, outShape: [vocab, width], threads: width * slices,
          uniforms: [['width', 'i32', width], ['slices', 'i32', slices], ['span', 'i32', span], ['vocab', 'i32', vocab], ['count', 'i32', b * t]],
        });
        return [dTable, tf.zerosLike(sids)]; // ids take no gradient
      },
    };
  });
  return f(table, ids) as tf.Tensor3D;
}

/** x @ w + b with the bias added in the matmul kernel's epilogue; gradients are TensorFlow.js's own. */
export function webgpuLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const [inDim, outDim] = w.shape;
  if (x.shape[x.rank - 1] !== inDim || x.dtype !== 'float32') return portable.linear(x, w, b);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D; // (N, in)
    const y = tf.fused.matMul({ a: x2, b: w, bias: b }); // (N, out)
    return tf.reshape(y, [...lead, outDim]);
  });
}
