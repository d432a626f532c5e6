// The model-level operations LLM Lab's GPT is built from. The model calls only these (plus plain tf
// arithmetic), so each backend can serve them with its fastest kernels and a gradient that it supports.
// Shapes: B batch, T time (positions), C channels, H heads, D head size, V vocabulary, N = B·T rows.
import { dropoutFactors, dropoutMask } from './dropoutMask';
import { fusedOp } from './fused';
import { tf } from './tf';

/** x @ w + b, with w stored [in, out] as in GPT-2's Conv1D. x: (..., in) → (..., out). */
function portableLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const inDim = w.shape[0];
    const outDim = w.shape[1];
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inDim]); // (N, in)
    let y = tf.matMul(x2 as tf.Tensor2D, w); // (N, out)
    if (b) y = tf.add(y, b);
    return tf.reshape(y, [...lead, outDim]);
  });
}

/** Rows of `table` for each id. ids: (B, T) int32, table: (V, C) → (B, T, C). */
function portableEmbedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  return tf.gather(table, ids) as unknown as tf.Tensor3D;
}

/** LayerNorm over the last axis with learned scale and shift; eps 1e-5 as GPT-2. */
function portableLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const norm = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(norm, gamma), beta);
  });
}

/** GELU, tanh approximation as GPT-2: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function portableGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/** Inverted dropout with the seeded mask of dropoutMask.ts (element i of x by its flat index). rate 0 returns x. */
function portableDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutFactors(dropoutMask(rate, seed), x.size), x.shape, 'float32')));
}

/** Inverted dropout with a seed, so a run is reproducible step by step; the same mask on every backend. rate 0 returns x. */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  return (fusedOp(tf.getBackend(), 'dropout') ?? portableDropout)(x, rate, seed);
}

export interface AttentionOptions {
  /** Absolute position of the first query; keys cover positions 0 .. offset+Tq-1. Default 0. */
  offset?: number;
  /** Dropout on the attention weights (training only). Default 0. */
  dropRate?: number;
  /** Seed for that dropout. */
  seed?: number;
  /** Also return the softmaxed weights, (B, H, Tq, Tk). */
  returnWeights?: boolean;
}

/**
 * Causal scaled dot-product attention. q: (B, H, Tq, D); k, v: (B, H, Tk, D) with Tk = offset + Tq.
 * Query i (absolute position offset+i) attends to keys 0..offset+i. Returns (B, H, Tq, D).
 */
function portableCausalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  opts: AttentionOptions = {},
): { out: tf.Tensor4D; weights?: tf.Tensor4D } {
  const offset = opts.offset ?? 0;
  const [, , tq, d] = q.shape;
  const tk = k.shape[2];
  return tf.tidy(() => {
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)); // (B, H, Tq, Tk)
    const rows = tf.reshape(tf.add(tf.range(0, tq, 1, 'int32'), offset), [tq, 1]);
    const cols = tf.reshape(tf.range(0, tk, 1, 'int32'), [1, tk]);
    const mask = tf.greater(cols, rows); // (Tq, Tk): true above the causal diagonal
    const masked = tf.where(mask, tf.fill([tq, tk], -1e9), scores);
    const weights = tf.softmax(masked) as tf.Tensor4D; // (B, H, Tq, Tk)
    const dropped = dropout(weights, opts.dropRate ?? 0, opts.seed ?? 0) as tf.Tensor4D;
    const out = tf.matMul(dropped, v) as tf.Tensor4D; // (B, H, Tq, D)
    return opts.returnWeights ? { out, weights } : { out };
  });
}

/**
 * Mean next-token cross-entropy. logits: (N, V) float, targets: (N) int32. Rows whose target is
 * `ignoreIndex` (default -100) do not count. Returns a scalar.
 */
function portableCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, ignoreIndex = -100): tf.Scalar {
  return tf.tidy(() => {
    const v = logits.shape[1];
    const keep = tf.notEqual(targets, ignoreIndex);
    const safe = tf.where(keep, targets, tf.zerosLike(targets));
    const logp = tf.logSoftmax(logits); // (N, V)
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, v)), -1); // (N)
    const keepF = tf.cast(keep, 'float32');
    const count = tf.maximum(tf.sum(keepF), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, keepF))), count) as tf.Scalar;
  });
}

/** Output-head logits x @ tableᵀ against the token-embedding table (tied head). x: (N, C), table: (V, C) → (N, V). */
function portableLmLogits(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(x, table, false, true); // (N, V)
}

/** Hyper-parameters of one AdamW step (decoupled weight decay, as in PyTorch's AdamW). */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decay for this parameter (0 for biases and norms). */
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * Updates `param`, and the moments `m` and `v`, in place with gradient `grad`:
 * p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).
 */
function portableAdamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, h.beta1), tf.mul(grad, 1 - h.beta1));
    const v1 = tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(grad), 1 - h.beta2));
    const mHat = tf.div(m1, 1 - Math.pow(h.beta1, h.step));
    const vHat = tf.div(v1, 1 - Math.pow(h.beta2, h.step));
    const decayed = tf.mul(param, 1 - h.lr * h.weightDecay);
    param.assign(tf.sub(decayed, tf.mul(h.lr, tf.div(mHat, tf.add(tf.sqrt(vHat), h.eps)))));
    m.assign(m1);
    v.assign(v1);
  });
}

/**
 * The portable compositions of plain tf ops: the reference every fused kernel is tested against, and what
 * runs where a backend has no fused version.
 */
export const portable = {
  linear: portableLinear,
  embedding: portableEmbedding,
  layerNorm: portableLayerNorm,
  gelu: portableGelu,
  dropout: portableDropout,
  causalAttention: portableCausalAttention,
  crossEntropy: portableCrossEntropy,
  lmLogits: portableLmLogits,
  adamw: portableAdamw,
};

/** x @ w + b, with w stored [in, out] as in GPT-2's Conv1D. x: (..., in) → (..., out). */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  return (fusedOp(tf.getBackend(), 'linear') ?? portableLinear)(x, w, b);
}

/** Rows of `table` for each id. ids: (B, T) int32, table: (V, C) → (B, T, C). */
export function embedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  return (fusedOp(tf.getBackend(), 'embedding') ?? portableEmbedding)(ids, table);
}

/** LayerNorm over the last axis with learned scale and shift; eps 1e-5 as GPT-2. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  return (fusedOp(tf.getBackend(), 'layerNorm') ?? portableLayerNorm)(x, gamma, beta, eps);
}

/** GELU, tanh approximation as GPT-2. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return (fusedOp(tf.getBackend(), 'gelu') ?? portableGelu)(x);
}

/** Causal scaled dot-product attention; see portableCausalAttention for shapes and options. */
export function causalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  opts: AttentionOptions = {},
): { out: tf.Tensor4D; weights?: tf.Tensor4D } {
  return (fusedOp(tf.getBackend(), 'causalAttention') ?? portableCausalAttention)(q, k, v, opts);
}

/** Mean next-token cross-entropy over rows whose target is not `ignoreIndex`; a scalar. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, ignoreIndex = -100): tf.Scalar {
  return (fusedOp(tf.getBackend(), 'crossEntropy') ?? portableCrossEntropy)(logits, targets, ignoreIndex);
}

/** One AdamW update of a parameter and its moments, in place. */
export function adamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  (fusedOp(tf.getBackend(), 'adamw') ?? portableAdamw)(param, grad, m, v, h);
}

/** Logits x @ tableᵀ of a tied output head. x: (N, C), table: (V, C) → (N, V). */
export function lmLogits(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  return (fusedOp(tf.getBackend(), 'lmLogits') ?? portableLmLogits)(x, table);
}
