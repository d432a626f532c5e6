// Evaluation of a model on a text: mean next-token cross-entropy and perplexity. The token stream is cut
// into consecutive, non-overlapping windows of the context length (the last one may be shorter); every
// token after the first is predicted exactly once, and the mean is over all those predictions (a short
// last window weighs by its tokens, not as much as a full one).
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { LlmLabError, yieldAndCheck } from '../errors';
import type { GptModel } from '../model/gpt';

export interface EvalResult {
  /** Mean cross-entropy (nats) over every predicted token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Tokens in the text. */
  tokens: number;
  /** Tokens predicted: all but the first. */
  predicted: number;
  /** Windows the stream was cut into. */
  windows: number;
}

export interface EvalOptions {
  /** Full windows run together per forward pass. Default 4. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each forward pass with the tokens predicted so far and in all. */
  onProgress?: (done: number, total: number) => void;
}

/** What evaluation needs of a tokenizer. */
export interface EvalTokenizer {
  encode(text: string, opts?: { allowSpecial?: boolean }): number[];
}

/** The [start, end) input ranges of the windows over `n` tokens with context `ctx` (targets are shifted by one). */
export function evalWindows(n: number, ctx: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n - 1; s += ctx) out.push([s, Math.min(s + ctx, n - 1)]);
  return out;
}

/** Sum of cross-entropies of one batch of equal-length windows. */
async function batchLossSum(model: GptModel, ids: ArrayLike<number>, windows: Array<[number, number]>): Promise<number> {
  const B = windows.length;
  const T = windows[0][1] - windows[0][0];
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  windows.forEach(([s], b) => {
    for (let t = 0; t < T; t++) {
      x[b * T + t] = ids[s + t];
      y[b * T + t] = ids[s + t + 1];
    }
  });
  const mean = tf.tidy(() => {
    const { logits } = model.forward(tf.tensor2d(x, [B, T], 'int32')); // (B, T, V)
    const V = logits.shape[2];
    return ops.crossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.tensor1d(y, 'int32')); // ()
  });
  const value = (await mean.data())[0];
  mean.dispose();
  return value * B * T;
}

/** Mean next-token loss and perplexity of a token stream. */
export async function evaluateIds(model: GptModel, ids: ArrayLike<number>, opts: EvalOptions = {}): Promise<EvalResult> {
  const n = ids.length;
  if (n < 2) {
    throw new LlmLabError('bad-data', `The text has ${n} token${n === 1 ? '' : 's'}; evaluation needs at least 2 (one to predict from, one to predict).`);
  }
  const V = model.config.vocabSize;
  for (let i = 0; i < n; i++) {
    if (!(ids[i] >= 0 && ids[i] < V)) {
      throw new LlmLabError('bad-data', `Token ${ids[i]} at position ${i} is outside the model's vocabulary of ${V}; use the model's tokenizer.`);
    }
  }
  const batchSize = opts.batchSize ?? 4;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new LlmLabError('bad-argument', `The evaluation batch size must be a whole number ≥ 1, got ${batchSize}.`);
  }
  const windows = evalWindows(n, model.config.contextLength);
  const full = windows.filter(([s, e]) => e - s === model.config.contextLength);
  const rest = windows.slice(full.length);
  const groups: Array<Array<[number, number]>> = [];
  for (let i = 0; i < full.length; i += batchSize) groups.push(full.slice(i, i + batchSize));
  if (rest.length) groups.push(rest);
  let sum = 0;
  let done = 0;
  for (const g of groups) {
    await yieldAndCheck(opts.signal);
    sum += await batchLossSum(model, ids, g);
    done += g.reduce((k, [s, e]) => k + e - s, 0);
    opts.onProgress?.(done, n - 1);
  }
  const loss = sum / (n - 1);
  return { loss, perplexity: Math.exp(loss), tokens: n, predicted: n - 1, windows: windows.length };
}

/** Mean next-token loss and perplexity of a text (`<|endoftext|>` in it counts as the special token). */
export async function evaluateText(model: GptModel, tokenizer: EvalTokenizer, text: string, opts: EvalOptions = {}): Promise<EvalResult> {
  return evaluateIds(model, tokenizer.encode(text, { allowSpecial: true }), opts);
}
