// Fused versions of the model ops for the wasm backend (and the cpu backend where they help). They fix what
// makes stock TensorFlow.js slow or broken to train on wasm:
// - matmuls: XNNPACK serves BatchMatMul only for untransposed 2-D operands, but tf's matMul gradients ask for
//   transposed ones (a naive ~1 GFLOP/s loop). Here every gradient transposes explicitly and multiplies plainly.
//   (What a gradient saves is shared, not copied: see shareIdentity in loader.ts.)
// - embedding: wasm has no UnsortedSegmentSum, the gradient of gather, and cpu's loops over the whole vocabulary;
//   here the gradient is a direct scatter-add of the N rows into a zeroed (V, C) table.
// - cross-entropy: log-softmax and a one-hot over 50,257 columns make several (N, V) tensors; here the forward
//   takes XNNPACK's softmax and reads N probabilities, and the backward turns one fresh softmax into
//   (softmax − one-hot)·scale in place: a single (N, V) tensor besides the logits.
// Each matches ops.ts's portable reference in values and gradients (test/unit/core/engine).
import { LlmLabError } from '../../errors';
import { registerFusedOps } from '../fused';
import { opWithLazyGrads } from '../lazyGrad';
import type { AdamWStep } from '../ops';
import { tf } from '../tf';
import { directCausalAttention } from './fusedAttention';
import { directGelu, directLayerNorm } from './fusedLayers';
import { floatView, idsCopy } from './views';

/** x (N, K) @ w (K, M) → (N, M); gradients dx = dy·wᵀ and dw = xᵀ·dy with explicit transposes, each only when asked for. */
function matMulPlain(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return opWithLazyGrads(
    [x, w],
    (save) => {
      save([x, w]);
      return tf.matMul(x, w); // (N, M)
    },
    (dy, [sa, sb]) => [
      () => tf.matMul(dy as tf.Tensor2D, tf.transpose(sb as tf.Tensor2D)), // (N, M)·(M, K) → (N, K)
      () => tf.matMul(tf.transpose(sa as tf.Tensor2D), dy as tf.Tensor2D), // (K, N)·(N, M) → (K, M)
    ],
  ) as tf.Tensor2D;
}

/** x (N, C) @ tableᵀ with table (V, C) → (N, V); dx = dy·table, dtable = (xᵀ·dy)ᵀ: only small transposes, each only when asked for. */
function matMulByTransposed(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  return opWithLazyGrads(
    [x, table],
    (save) => {
      save([x, table]);
      return tf.matMul(x, tf.transpose(table)); // (N, C)·(C, V) → (N, V)
    },
    (dy, [sa, sb]) => [
      () => tf.matMul(dy as tf.Tensor2D, sb as tf.Tensor2D), // (N, V)·(V, C) → (N, C)
      () => tf.transpose(tf.matMul(tf.transpose(sa as tf.Tensor2D), dy as tf.Tensor2D)), // ((C, N)·(N, V))ᵀ → (V, C)
    ],
  ) as tf.Tensor2D;
}

/** x @ w + b over the last axis; x: (..., in) → (..., out). */
export function wasmLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const [inDim, outDim] = w.shape;
    const lead = x.shape.slice(0, -1);
    let y: tf.Tensor = matMulPlain(tf.reshape(x, [-1, inDim]), w); // (N, out)
    if (b) y = tf.add(y, b);
    return tf.reshape(y, [...lead, outDim]);
  });
}

/** Tied-head logits x @ tableᵀ. x: (N, C), table: (V, C) → (N, V). */
export function wasmLmLogits(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  return matMulByTransposed(x, table);
}

/** Gradient of a row gather: dy rows added into a zeroed (V, C) table at their ids (ids outside 0..V-1 skipped). */
function scatterRows(dy: tf.Tensor, ids: Int32Array, vocab: number, width: number): tf.Tensor2D {
  const out = tf.zeros([vocab, width]) as tf.Tensor2D; // (V, C), fresh: ours to write
  const rows = tf.reshape(dy, [-1, width]); // (N, C)
  const src = floatView(rows);
  const dst = floatView(out);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= vocab) continue;
    const s = i * width;
    const d = id * width;
    for (let c = 0; c < width; c++) dst[d + c] += src[s + c];
  }
  rows.dispose();
  return out;
}

/** Rows of `table` for each id; the gradient scatter-adds into the table. ids: (B, T), table: (V, C) → (B, T, C). */
export function directEmbedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  const [vocab, width] = table.shape;
  const idList = idsCopy(ids); // (N) copied now: the caller may dispose ids before the backward pass
  const f = tf.customGrad((tab) => ({
    value: tf.gather(tab as tf.Tensor2D, ids) as tf.Tensor, // (B, T, C)
    gradFunc: (dy) => scatterRows(dy, idList, vocab, width),
  }));
  return f(table) as tf.Tensor3D;
}

/** Below this, a float32 softmax probability is too coarse for its log; such rows are redone exactly. */
const TINY_PROB = 1e-30;

/** log-sum-exp of one row, in float64 from the logits. */
function rowLogSumExp(lg: Float32Array, start: number, width: number): number {
  let max = -Infinity;
  for (let j = 0; j < width; j++) if (lg[start + j] > max) max = lg[start + j];
  let sum = 0;
  for (let j = 0; j < width; j++) sum += Math.exp(lg[start + j] - max);
  return max + Math.log(sum);
}

/**
 * Mean cross-entropy of logits (N, V) against targets (N), skipping `ignoreIndex` rows. The forward is one
 * XNNPACK softmax plus N reads; the backward writes (softmax − one-hot)·dy/count into one fresh softmax.
 */
export function directCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, ignoreIndex = -100): tf.Scalar {
  const [n, vocab] = logits.shape;
  const tv = idsCopy(targets);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t = tv[i];
    if (t === ignoreIndex) continue;
    if (!Number.isInteger(t) || t < 0 || t >= vocab) {
      throw new LlmLabError('bad-data', `Target token id ${t} (row ${i}) is outside the vocabulary 0..${vocab - 1}; check the tokenizer and the data.`);
    }
    count++;
  }
  const f = tf.customGrad((lg, save) => {
    (save as tf.GradSaveFunc)([lg as tf.Tensor]);
    const p = tf.softmax(lg as tf.Tensor2D); // (N, V)
    const pv = floatView(p);
    let total = 0;
    const redo: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = tv[i];
      if (t === ignoreIndex) continue;
      const q = pv[i * vocab + t];
      if (q > TINY_PROB) total -= Math.log(q);
      else redo.push(i);
    }
    if (redo.length) {
      const lv = floatView(lg as tf.Tensor);
      for (const i of redo) total += rowLogSumExp(lv, i * vocab, vocab) - lv[i * vocab + tv[i]];
    }
    p.dispose();
    return {
      value: tf.scalar(total / Math.max(count, 1)),
      gradFunc: (dy, [saved]) => {
        const scale = (dy.dataSync()[0] ?? 0) / Math.max(count, 1);
        const g = tf.softmax(saved as tf.Tensor2D); // (N, V), fresh: becomes the gradient in place
        const gv = floatView(g);
        for (let i = 0; i < n; i++) {
          const row = i * vocab;
          const t = tv[i];
          if (t === ignoreIndex) {
            gv.fill(0, row, row + vocab);
            continue;
          }
          gv[row + t] -= 1;
          if (scale !== 1) for (let j = row; j < row + vocab; j++) gv[j] *= scale;
        }
        return g;
      },
    };
  });
  return f(logits) as tf.Scalar;
}

/**
 * One AdamW step in a single pass over parameter, gradient and moments (the portable version makes a dozen
 * passes, each with its own (P) temporary). New values go to fresh tensors that the variables then take.
 */
export function directAdamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
  const next = [tf.zerosLike(param), tf.zerosLike(m), tf.zerosLike(v)]; // fresh (P) buffers, ours to write
  const [p0, g, m0, v0] = [floatView(param), floatView(grad), floatView(m), floatView(v)];
  const [p1, m1, v1] = next.map(floatView);
  const { beta1, beta2, eps, lr } = h;
  const decay = 1 - lr * h.weightDecay;
  const bc1 = 1 - Math.pow(beta1, h.step);
  const bc2 = 1 - Math.pow(beta2, h.step);
  for (let i = 0; i < p0.length; i++) {
    const gi = g[i];
    const mi = beta1 * m0[i] + (1 - beta1) * gi;
    const vi = beta2 * v0[i] + (1 - beta2) * gi * gi;
    m1[i] = mi;
    v1[i] = vi;
    p1[i] = p0[i] * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
  param.assign(next[0]);
  m.assign(next[1]);
  v.assign(next[2]);
  tf.dispose(next);
}

/** Registers these ops for 'wasm' (all) and 'cpu' (all but the matmuls, which cpu serves as well untransposed). */
export function registerWasmFusedOps(): void {
  const direct = {
    embedding: directEmbedding,
    crossEntropy: directCrossEntropy,
    adamw: directAdamw,
    layerNorm: directLayerNorm,
    gelu: directGelu,
    causalAttention: directCausalAttention,
  };
  registerFusedOps('wasm', { ...direct, linear: wasmLinear, lmLogits: wasmLmLogits });
  registerFusedOps('cpu', direct);
}
