// The data of a pretraining run: token ids (given, or the tokenized text) split into training and held-out
// validation tokens, cut into context-length windows, with a seeded batch sampler over the training windows
// and a fingerprint that lets a resumed run check it is given the same data.
import { LlmLabError } from '../errors';
import { BatchSampler, TokenWindows, splitTokens } from '../data';
import type { ResolvedPretrainOptions } from './options';

export interface RunData {
  ids: Int32Array;
  train: Int32Array;
  val: Int32Array;
  trainWindows: TokenWindows;
  /** Undefined when valFraction is 0. */
  valWindows?: TokenWindows;
  /** Length and FNV-1a hash of the ids, e.g. "5145:9a3c01f2". */
  fingerprint: string;
}

/** "length:hash" of token ids: equal for equal data, almost surely different otherwise. */
export function fingerprintTokens(ids: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    h = Math.imul(h ^ (ids[i] & 0xffff), 0x01000193);
    h = Math.imul(h ^ (ids[i] >>> 16), 0x01000193);
  }
  return `${ids.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** Copies ids into an Int32Array, checking each is a token of the model's vocabulary. */
export function toTokenArray(tokens: ArrayLike<number>, vocabSize: number): Int32Array {
  const ids = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw new LlmLabError(
        'bad-data',
        `Token ${i} of the training data is ${t}, outside the model's vocabulary 0..${vocabSize - 1}; use the same tokenizer as the model or raise model.vocabSize.`,
      );
    }
    ids[i] = t;
  }
  return ids;
}

/** Windows count of `n` tokens with context T and stride S (a window needs T + 1 tokens). */
export function windowCount(n: number, T: number, S: number): number {
  return n > T ? Math.floor((n - T - 1) / S) + 1 : 0;
}

/** Splits and windows the ids; errors say what is too small and how to fix it. */
export function prepareData(ids: Int32Array, o: ResolvedPretrainOptions): RunData {
  const T = o.model.contextLength;
  const { train, val } = splitTokens(ids, o.valFraction);
  const trainWindows = new TokenWindows(train, T, o.stride);
  if (trainWindows.count < o.batchSize) {
    throw new LlmLabError(
      'bad-data',
      `The training split has ${train.length} tokens, ${trainWindows.count} window(s) of ${T + 1} tokens at stride ${o.stride}, ` +
        `but one batch needs ${o.batchSize}; use more text, a smaller batchSize, stride or contextLength.`,
    );
  }
  let valWindows: TokenWindows | undefined;
  if (o.valFraction > 0) {
    valWindows = new TokenWindows(val, T, T);
    if (valWindows.count === 0) {
      throw new LlmLabError(
        'bad-data',
        `The validation split (${o.valFraction * 100}% of the data) has ${val.length} tokens, fewer than one window of ${T + 1}; ` +
          'use more text, a larger valFraction, a smaller contextLength, or valFraction 0 to skip validation.',
      );
    }
  }
  return { ids, train, val, trainWindows, valWindows, fingerprint: fingerprintTokens(ids) };
}

/** A seeded sampler of training batches (its state is saved in checkpoints). */
export function makeSampler(data: RunData, o: ResolvedPretrainOptions): BatchSampler {
  return new BatchSampler(data.trainWindows, o.batchSize, o.seed);
}
