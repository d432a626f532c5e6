// One optimizer step's gradient work: the batch split into micro-batches whose gradients are averaged
// (gradient accumulation: the same result as the whole batch at once, in less memory), then clipped to a
// global norm. Dropout masks are seeded from (run seed, step, micro-batch), so a resumed run repeats them.
import { tf } from '../engine';
import type { GptModel } from '../model/gpt';

/** Row-major (B, T) token ids and next-token targets. */
export interface TokenBatch {
  inputs: Int32Array;
  targets: Int32Array;
  batchSize: number;
  seqLen: number;
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Dropout seed of a micro-batch: a fixed hash of the run seed, the step and the micro-batch index. */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  return mix(mix(mix(0x9e3779b9, seed), step), micro) % 2147483647;
}

/** Rows [from, from+rows) of a batch as (rows, T) int32 tensors. */
function rowsOf(b: TokenBatch, from: number, rows: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const T = b.seqLen;
  const x = tf.tensor2d(b.inputs.subarray(from * T, (from + rows) * T), [rows, T], 'int32'); // (b, T)
  const y = tf.tensor2d(b.targets.subarray(from * T, (from + rows) * T), [rows, T], 'int32'); // (b, T)
  return { x, y };
}

export interface Gradients {
  /** Mean loss over the batch (the mean of the micro-batch means; NaN/Inf when training diverged). */
  loss: number;
  /** Gradient of that mean loss by parameter name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

/**
 * Mean loss of `rows` rows starting at row `from` of the current batch, built inside the gradient tape (any
 * tensors it makes are freed after the step). `seed` is this micro-batch's dropout seed.
 */
export type MicroBatchLoss = (from: number, rows: number, seed: number) => tf.Scalar;

/**
 * Loss and gradients of a batch of `batchSize` rows, in `accumSteps` equal micro-batches (batchSize must divide
 * by it), for the variables in `trainable` only: a variable left out gets no gradient, and no op computes
 * one for it (see engine/lazyGrad.ts). `seedOf(micro)` gives each micro-batch's dropout seed. Asynchronous
 * because the loss is read back from the backend, which on a GPU (webgpu) can only be waited for.
 */
export async function accumulateGradients(
  trainable: Map<string, tf.Variable>,
  batchSize: number,
  accumSteps: number,
  lossOf: MicroBatchLoss,
  seedOf: (micro: number) => number,
): Promise<Gradients> {
  const names = [...trainable.keys()];
  const vars = names.map((n) => trainable.get(n)!);
  const nameOfVar = new Map(vars.map((v, i) => [v.name, names[i]]));
  const micro = batchSize / accumSteps;
  const grads = new Map<string, tf.Tensor>();
  let lossSum = 0;
  for (let j = 0; j < accumSteps; j++) {
    const { value, grads: g } = tf.variableGrads(() => lossOf(j * micro, micro, seedOf(j)), vars);
    lossSum += (await value.data())[0];
    value.dispose();
    for (const [varName, grad] of Object.entries(g)) {
      const name = nameOfVar.get(varName)!;
      const scaled = accumSteps === 1 ? grad : tf.tidy(() => tf.mul(grad, 1 / accumSteps));
      if (scaled !== grad) grad.dispose();
      const prev = grads.get(name);
      if (prev) {
        grads.set(name, tf.add(prev, scaled));
        tf.dispose([prev, scaled]);
      } else {
        grads.set(name, scaled);
      }
    }
  }
  return { loss: lossSum / accumSteps, grads };
}

/** Next-token loss and gradients of a token batch for every parameter of `model` (see accumulateGradients). */
export function computeGradients(
  model: GptModel,
  batch: TokenBatch,
  accumSteps: number,
  training: boolean,
  seedOf: (micro: number) => number,
): Promise<Gradients> {
  return accumulateGradients(model.params, batch.batchSize, accumSteps, tokenBatchLoss(model, batch, training), seedOf);
}

/** The micro-batch loss of a token batch: mean next-token cross-entropy (targets -100 are skipped). */
export function tokenBatchLoss(model: GptModel, batch: TokenBatch, training: boolean): MicroBatchLoss {
  return (from, rows, seed) => {
    const { x, y } = rowsOf(batch, from, rows);
    return model.loss(x, y, { training, seed });
  };
}

/** The global L2 norm of all gradients together (one number read back from the backend). */
export async function globalNorm(grads: Map<string, tf.Tensor>): Promise<number> {
  const all = [...grads.values()];
  if (all.length === 0) return 0;
  // Summed two at a time: one addN over every parameter binds more buffers than a GPU kernel may (webgpu: 8).
  const norm = tf.tidy(() => tf.sqrt(all.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))));
  const value = (await norm.data())[0];
  norm.dispose();
  return value;
}

/**
 * Scales every gradient by maxNorm / norm when the global norm exceeds maxNorm (as PyTorch's
 * clip_grad_norm_, with its 1e-6 guard), replacing the map's tensors. Returns the norm before clipping.
 * maxNorm ≤ 0 turns clipping off.
 */
export async function clipGradients(grads: Map<string, tf.Tensor>, maxNorm: number): Promise<number> {
  const norm = await globalNorm(grads);
  if (maxNorm <= 0 || !Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return norm;
  for (const [name, g] of grads) {
    grads.set(name, tf.tidy(() => tf.mul(g, coef)));
    g.dispose();
  }
  return norm;
}
