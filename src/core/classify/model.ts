// A GPT classifier: the GPT body's final hidden state at each text's last real token (not a padding token),
// times a head `score.weight` (classes, width) without bias, gives one logit per class, as Hugging Face's
// GPT2ForSequenceClassification. Which parameters train is chosen by name: the head, the last N blocks with the
// final LayerNorm and the head, or everything. With LoRA (see lora.ts) the body's adapters act inside it, and an
// adapter on the head (site `lm_head`) adds its term to the class logits.
import { tf } from '../engine';
import * as ops from '../engine/ops';
import { LlmLabError } from '../errors';
import type { GptModel } from '../model/gpt';
import { Rng } from '../rng';

/** The head's parameter name (as in Hugging Face's GPT2ForSequenceClassification). */
export const SCORE_WEIGHT = 'score.weight';

/** What trains: the head only, the last block (+ final norm + head, the book's choice), the last N blocks, or all. */
export type TrainableChoice = 'head' | 'last-block' | 'all' | `last-${number}`;

export function isTrainableChoice(s: string): s is TrainableChoice {
  return s === 'head' || s === 'last-block' || s === 'all' || /^last-[1-9]\d*$/.test(s);
}

/** Row-major (B, T) ids with each row's real length and class. */
export interface ClassBatch {
  ids: Int32Array;
  lengths: Int32Array;
  targets: Int32Array;
  batchSize: number;
  seqLen: number;
}

export class Classifier {
  /** Body parameters and the head, by name (what a checkpoint holds). */
  readonly params: Map<string, tf.Variable>;

  constructor(
    readonly body: GptModel,
    readonly score: tf.Variable,
    readonly labels: readonly string[],
  ) {
    if (score.shape.length !== 2 || score.shape[0] !== labels.length || score.shape[1] !== body.config.embDim) {
      throw new LlmLabError(
        'bad-checkpoint',
        `The classification head has shape [${score.shape}] but ${labels.length} classes of a width-${body.config.embDim} model need [${labels.length}, ${body.config.embDim}].`,
      );
    }
    this.params = new Map(body.params);
    this.params.set(SCORE_WEIGHT, score);
  }

  /** A new head of N(0, 0.02) weights (Hugging Face's initialisation), seeded, over `body`. */
  static withNewHead(body: GptModel, labels: readonly string[], seed: number): Classifier {
    const C = body.config.embDim;
    const init = new Rng(seed * 1000 + 999).fillNormal(new Float32Array(labels.length * C), 0.02);
    return new Classifier(body, tf.variable(tf.tensor2d(init, [labels.length, C]), true), labels);
  }

  /**
   * Class logits (B, K) of a batch: the hidden state at position length−1 of each row, through the head.
   * Positions after it are never read; under causal attention they cannot change it either.
   */
  logits(ids: tf.Tensor2D, lengths: Int32Array, opts: { training?: boolean; seed?: number } = {}): tf.Tensor2D {
    const [B, T] = ids.shape;
    return tf.tidy(() => {
      const { hidden } = this.body.hidden(ids, opts); // (B, T, C)
      const pick = new Float32Array(B * T);
      for (let b = 0; b < B; b++) {
        const L = lengths[b];
        if (!(L >= 1 && L <= T)) throw new LlmLabError('bad-argument', `Row ${b} has length ${L}, outside 1..${T}.`);
        pick[b * T + L - 1] = 1;
      }
      const mask = tf.tensor3d(pick, [B, T, 1]); // (B, T, 1): one at each row's last real token
      const last = tf.sum(tf.mul(hidden, mask), 1) as tf.Tensor2D; // (B, C)
      const logits = tf.matMul(last, this.score, false, true) as tf.Tensor2D; // (B, K)
      const d = this.body.adapter?.delta('lm_head', last); // a LoRA adapter on the head: (B, K)
      return (d ? tf.add(logits, d) : logits) as tf.Tensor2D;
    });
  }

  /** Rows [from, from+rows) of a batch, cut to the longest of them (the padding after it cannot matter). */
  static rows(b: ClassBatch, from: number, rows: number): { ids: tf.Tensor2D; lengths: Int32Array; targets: Int32Array } {
    const lengths = b.lengths.slice(from, from + rows);
    const T = Math.max(...lengths);
    const ids = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) ids.set(b.ids.subarray((from + r) * b.seqLen, (from + r) * b.seqLen + T), r * T);
    return { ids: tf.tensor2d(ids, [rows, T], 'int32'), lengths, targets: b.targets.slice(from, from + rows) };
  }

  /** Mean cross-entropy of rows [from, from+rows) of a batch. */
  loss(b: ClassBatch, from: number, rows: number, opts: { training?: boolean; seed?: number } = {}): tf.Scalar {
    return tf.tidy(() => {
      const r = Classifier.rows(b, from, rows);
      const logits = this.logits(r.ids, r.lengths, opts); // (b, K)
      return ops.crossEntropy(logits, tf.tensor1d(r.targets, 'int32'));
    });
  }

  /** Names of the parameters `choice` trains. */
  trainableNames(choice: TrainableChoice): Set<string> {
    const L = this.body.config.nLayers;
    if (choice === 'all') return new Set(this.params.keys());
    if (choice === 'head') return new Set([SCORE_WEIGHT]);
    const n = choice === 'last-block' ? 1 : Number(choice.slice('last-'.length));
    if (!Number.isInteger(n) || n < 1 || n > L) {
      throw new LlmLabError('bad-argument', `--trainable ${choice}: the model has ${L} block(s); use last-1 … last-${L}, head or all.`);
    }
    const out = new Set<string>([SCORE_WEIGHT]);
    for (const name of this.params.keys()) {
      const m = /^h\.(\d+)\./.exec(name);
      if ((m && Number(m[1]) >= L - n) || name.startsWith('ln_f.')) out.add(name);
    }
    return out;
  }

  dispose(): void {
    this.body.dispose();
    this.score.dispose();
    this.params.clear();
  }
}

/** Values of the parameters `choice` trains on a model of `nLayers` blocks, from each parameter's size. */
export function countTrainable(sizes: Map<string, number>, nLayers: number, choice: TrainableChoice): number {
  let n = 0;
  const blocks = choice === 'all' ? nLayers : choice === 'head' ? 0 : choice === 'last-block' ? 1 : Number(choice.slice(5));
  for (const [name, size] of sizes) {
    const m = /^h\.(\d+)\./.exec(name);
    if (choice === 'all' || name === SCORE_WEIGHT || (blocks > 0 && ((m && Number(m[1]) >= nLayers - blocks) || name.startsWith('ln_f.')))) n += size;
  }
  return n;
}
