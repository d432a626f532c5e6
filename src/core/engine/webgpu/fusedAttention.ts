// Causal attention as WGSL kernels, forward and backward, that never build the (B, H, T, T) score tensor: each
// thread owns one query row (or, backward, one key row) and recomputes the scores it needs from q and k, with
// the row's log-sum-exp saved from the forward pass. The masked half is skipped. With attention dropout the
// portable version runs, so its seeded masks stay exactly reproducible.
// Shapes: q (B, H, Tq, D); k, v (B, H, Tk, D), Tk = offset + Tq; "head" h runs over B·H.
import type { AttentionOptions } from '../ops';
import { portable } from '../ops';
import { tf } from '../tf';
import type { Uniform } from './program';
import { runKernel } from './program';

/** Head sizes up to this run here (a thread keeps one row of D floats); larger ones take the portable path. */
const MAX_HEAD = 128;

// Query i of head h sees keys 0 .. min(offset + i, tk − 1).
const COMMON = `
fn lastKey(i : i32) -> i32 { return min(uniforms.offset + i, uniforms.tk - 1); }
fn score(h : i32, i : i32, j : i32) -> f32 {
  let d = uniforms.d;
  let qo = (h * uniforms.tq + i) * d;
  let ko = (h * uniforms.tk + j) * d;
  var s = 0.0;
  for (var c = 0; c < d; c++) { s += Q[qo + c] * K[ko + c]; }
  return s * uniforms.scale;
}`;

// LSE[h·tq + i] = log Σ_j exp(score(i, j)), online (running max) in one pass.
const LSE = `${COMMON}
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let h = index / uniforms.tq;
  let i = index % uniforms.tq;
  var m = -3.0e38;
  var s = 0.0;
  for (var j = 0; j <= lastKey(i); j++) {
    let x = score(h, i, j);
    if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
  }
  result[index] = m + log(s);
}`;

const OUT = `${COMMON}
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let h = index / uniforms.tq;
  let i = index % uniforms.tq;
  let d = uniforms.d;
  var acc : array<f32, ${MAX_HEAD}>;
  for (var c = 0; c < d; c++) { acc[c] = 0.0; }
  let lse = LSE[index];
  for (var j = 0; j <= lastKey(i); j++) {
    let p = exp(score(h, i, j) - lse);
    let vo = (h * uniforms.tk + j) * d;
    for (var c = 0; c < d; c++) { acc[c] += p * V[vo + c]; }
  }
  for (var c = 0; c < d; c++) { result[index * d + c] = acc[c]; }
}`;

const WEIGHTS = `${COMMON}
fn main(index : i32) {
  if (index >= uniforms.rows * uniforms.tk) { return; }
  let row = index / uniforms.tk;
  let j = index % uniforms.tk;
  let i = row % uniforms.tq;
  if (j > lastKey(i)) { result[index] = 0.0; return; }
  result[index] = exp(score(row / uniforms.tq, i, j) - LSE[row]);
}`;

// DELTA[row] = Σ_c dy · out: the softmax backward's Σ_j p_j · dp_j for that row.
const DELTA = `
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let d = uniforms.d;
  var s = 0.0;
  for (var c = 0; c < d; c++) { s += DY[index * d + c] * O[index * d + c]; }
  result[index] = s;
}`;

// dp(i, j) = dy_i · v_j; ds = p · (dp − delta_i) · scale.
const GRAD_COMMON = `${COMMON}
fn dScore(h : i32, i : i32, j : i32) -> f32 {
  let d = uniforms.d;
  let row = h * uniforms.tq + i;
  let p = exp(score(h, i, j) - LSE[row]);
  let vo = (h * uniforms.tk + j) * d;
  var dp = 0.0;
  for (var c = 0; c < d; c++) { dp += DY[row * d + c] * V[vo + c]; }
  return p * (dp - DELTA[row]) * uniforms.scale;
}`;

const DQ = `${GRAD_COMMON}
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let h = index / uniforms.tq;
  let i = index % uniforms.tq;
  let d = uniforms.d;
  var acc : array<f32, ${MAX_HEAD}>;
  for (var c = 0; c < d; c++) { acc[c] = 0.0; }
  for (var j = 0; j <= lastKey(i); j++) {
    let ds = dScore(h, i, j);
    let ko = (h * uniforms.tk + j) * d;
    for (var c = 0; c < d; c++) { acc[c] += ds * K[ko + c]; }
  }
  for (var c = 0; c < d; c++) { result[index * d + c] = acc[c]; }
}`;

// One thread per key row j: dk_j = Σ_i ds(i, j) · q_i (uniforms.forV 0) or dv_j = Σ_i p(i, j) · dy_i (forV 1),
// over the queries that see key j: offset + i ≥ j.
const DKV = `${GRAD_COMMON}
fn main(index : i32) {
  if (index >= uniforms.heads * uniforms.tk) { return; }
  let h = index / uniforms.tk;
  let j = index % uniforms.tk;
  let d = uniforms.d;
  var acc : array<f32, ${MAX_HEAD}>;
  for (var c = 0; c < d; c++) { acc[c] = 0.0; }
  for (var i = max(0, j - uniforms.offset); i < uniforms.tq; i++) {
    let row = h * uniforms.tq + i;
    if (uniforms.forV == 1) {
      let p = exp(score(h, i, j) - LSE[row]);
      for (var c = 0; c < d; c++) { acc[c] += p * DY[row * d + c]; }
    } else {
      let ds = dScore(h, i, j);
      for (var c = 0; c < d; c++) { acc[c] += ds * Q[row * d + c]; }
    }
  }
  for (var c = 0; c < d; c++) { result[index * d + c] = acc[c]; }
}`;

function attentionOp(offset: number) {
  return tf.customGrad((q, k, v, save) => {
    const [qt, kt, vt] = [q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D];
    const [b, h, tq, d] = qt.shape;
    const tk = kt.shape[2];
    const heads = b * h;
    const rows = heads * tq;
    const dims: Uniform[] = [['rows', 'i32', rows], ['heads', 'i32', heads], ['tq', 'i32', tq], ['tk', 'i32', tk], ['d', 'i32', d],
      ['offset', 'i32', offset], ['scale', 'f32', 1 / Math.sqrt(d)]];
    const lse = runKernel({ name: 'attLse', code: LSE, inputs: { Q: qt, K: kt }, outShape: [rows], threads: rows, uniforms: dims });
    const out = runKernel({ name: 'attOut', code: OUT, inputs: { Q: qt, K: kt, V: vt, LSE: lse }, outShape: qt.shape, threads: rows, uniforms: dims });
    (save as tf.GradSaveFunc)([qt, kt, vt, out, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, [sq, sk, sv, so, slse]: tf.Tensor[]) => {
        const delta = runKernel({ name: 'attDelta', code: DELTA, inputs: { DY: dy, O: so }, outShape: [rows], threads: rows, uniforms: dims });
        const inputs = { Q: sq, K: sk, V: sv, LSE: slse, DY: dy, DELTA: delta };
        const dq = runKernel({ name: 'attDq', code: DQ, inputs, outShape: sq.shape, threads: rows, uniforms: dims });
        const dkv = (forV: number): tf.Tensor =>
          runKernel({ name: 'attDkv', code: DKV, inputs, outShape: sk.shape, threads: heads * tk, uniforms: [...dims, ['forV', 'i32', forV]] });
        const grads = [dq, dkv(0), dkv(1)];
        delta.dispose();
        return grads;
      },
    };
  });
}

/** The softmaxed weights (B, H, Tq, Tk) for attention maps; no gradient. */
function weightsOf(q: tf.Tensor4D, k: tf.Tensor4D, offset: number): tf.Tensor4D {
  const [b, h, tq, d] = q.shape;
  const tk = k.shape[2];
  const rows = b * h * tq;
  const dims: Uniform[] = [['rows', 'i32', rows], ['tq', 'i32', tq], ['tk', 'i32', tk], ['d', 'i32', d], ['offset', 'i32', offset],
    ['scale', 'f32', 1 / Math.sqrt(d)]];
  const lse = runKernel({ name: 'attLseW', code: LSE, inputs: { Q: q, K: k }, outShape: [rows], threads: rows, uniforms: dims });
  const w = runKernel({ name: 'attWeights', code: WEIGHTS, inputs: { Q: q, K: k, LSE: lse }, outShape: [b, h, tq, tk], threads: rows * tk, uniforms: dims });
  lse.dispose();
  return w as tf.Tensor4D;
}

export function webgpuCausalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  opts: AttentionOptions = {},
): { out: tf.Tensor4D; weights?: tf.Tensor4D } {
  const offset = opts.offset ?? 0;
  const d = q.shape[3];
  if ((opts.dropRate ?? 0) > 0 || d > MAX_HEAD || q.dtype !== 'float32') return portable.causalAttention(q, k, v, opts);
  const out = attentionOp(offset)(q, k, v) as tf.Tensor4D; // a new closure per offset: cheap, and generation moves it every token
  return opts.returnWeights ? { out, weights: weightsOf(q, k, offset) } : { out };
}
