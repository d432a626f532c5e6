// What a run looks at between steps: the loss on held-out windows (no dropout) and a greedy continuation of a
// fixed prompt. The sampling here is a plain greedy loop over GptModel.forward; the generation module offers
// the full samplers.
import { tf } from '../engine';
import type { GptModel } from '../model/gpt';

/** Input/target windows as the data pipeline gives them. */
export interface Windows {
  readonly count: number;
  input(i: number): Int32Array;
  target(i: number): Int32Array;
}

/**
 * Mean next-token loss over windows in order, `batchSize` at a time, over at most `maxBatches` batches
 * (0: all). Each batch weighs by its number of windows. Stops early (returning the mean so far) when
 * `signal` fires.
 */
export async function validationLoss(model: GptModel, windows: Windows, batchSize: number, maxBatches = 0, signal?: AbortSignal): Promise<number> {
  const limit = maxBatches > 0 ? Math.min(windows.count, maxBatches * batchSize) : windows.count;
  let sum = 0;
  let rows = 0;
  for (let start = 0; start < limit; start += batchSize) {
    if (signal?.aborted && rows > 0) break;
    const n = Math.min(batchSize, limit - start);
    const T = windows.input(start).length;
    const xs = new Int32Array(n * T);
    const ys = new Int32Array(n * T);
    for (let r = 0; r < n; r++) {
      xs.set(windows.input(start + r), r * T);
      ys.set(windows.target(start + r), r * T);
    }
    const lossT = tf.tidy(() => {
      const x = tf.tensor2d(xs, [n, T], 'int32'); // (n, T)
      const y = tf.tensor2d(ys, [n, T], 'int32'); // (n, T)
      return model.loss(x, y, { training: false });
    });
    const loss = (await lossT.data())[0];
    lossT.dispose();
    sum += loss * n;
    rows += n;
  }
  return rows > 0 ? sum / rows : NaN;
}

/** `count` greedy next tokens after `prompt` (the context cropped to the model's length). */
export async function greedyContinue(model: GptModel, prompt: readonly number[], count: number): Promise<number[]> {
  const T = model.config.contextLength;
  const ids = [...prompt];
  for (let i = 0; i < count; i++) {
    const ctx = ids.slice(-T);
    const best = tf.tidy(() => {
      const x = tf.tensor2d(ctx, [1, ctx.length], 'int32'); // (1, t)
      const { logits } = model.forward(x); // (1, t, V)
      const last = tf.slice(logits, [0, ctx.length - 1, 0], [1, 1, -1]); // (1, 1, V)
      return tf.argMax(tf.reshape(last, [-1]));
    });
    ids.push((await best.data())[0]);
    best.dispose();
  }
  return ids.slice(prompt.length);
}
