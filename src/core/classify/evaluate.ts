// Measuring a classifier: loss, accuracy, the confusion matrix and each row's class probabilities over encoded
// rows, in batches (each cut to its longest row), without dropout. Used during training (validation, a few
// training batches), for the test split at the end, and by `llm-lab classify`.
import { tf } from '../engine';
import type { EncodedRows } from './dataset';
import { Classifier } from './model';

export interface RowScores {
  /** Mean cross-entropy over the rows scored (natural log). */
  loss: number;
  /** Fraction of rows whose most probable class is their class. */
  accuracy: number;
  /** Rows scored (all of them, the first maxBatches·batchSize, or fewer when cancelled). */
  rows: number;
  /** counts[i][j]: rows of class i predicted as class j. */
  confusion: number[][];
  /** Predicted class of each row scored. */
  predicted: Int32Array;
  /** Row-major (rows, classes) probabilities. */
  probabilities: Float32Array;
}

/**
 * Scores the first `maxBatches` batches of `rows` (0: every row). Targets below 0 count in no measure. When
 * `signal` fires it stops after the current batch and returns what it scored (as pretraining's validation does);
 * callers that must not return a partial result check the signal.
 */
export async function scoreRows(c: Classifier, data: EncodedRows, batchSize: number, maxBatches = 0, signal?: AbortSignal): Promise<RowScores> {
  const K = c.labels.length;
  const n = maxBatches > 0 ? Math.min(data.rows, maxBatches * batchSize) : data.rows;
  const probabilities = new Float32Array(n * K);
  const predicted = new Int32Array(n);
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let lossSum = 0;
  let correct = 0;
  let counted = 0;
  const batch = { ids: data.ids, lengths: data.lengths, targets: data.targets, batchSize: data.rows, seqLen: data.length };
  let scored = 0;
  for (let from = 0; from < n; from += batchSize) {
    if (signal?.aborted && from > 0) break;
    const rows = Math.min(batchSize, n - from);
    const logp = tf.tidy(() => {
      const r = Classifier.rows(batch, from, rows);
      return tf.logSoftmax(c.logits(r.ids, r.lengths)); // (rows, K)
    });
    const lp = (await logp.data()) as Float32Array;
    logp.dispose();
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let k = 0; k < K; k++) {
        probabilities[(from + i) * K + k] = Math.exp(lp[i * K + k]);
        if (lp[i * K + k] > lp[i * K + best]) best = k;
      }
      predicted[from + i] = best;
      const t = data.targets[from + i];
      if (t >= 0) {
        lossSum -= lp[i * K + t];
        if (best === t) correct++;
        confusion[t][best]++;
        counted++;
      }
    }
    scored = from + rows;
    await new Promise<void>((resolve) => setImmediate(resolve)); // let a cancel arrive
  }
  return {
    loss: counted ? lossSum / counted : NaN, accuracy: counted ? correct / counted : NaN, rows: scored, confusion,
    predicted: predicted.subarray(0, scored), probabilities: probabilities.subarray(0, scored * K),
  };
}
