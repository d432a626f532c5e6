// A classification data set made ready to train on, as the book's chapter 6 does: optional balancing by
// undersampling every class to the smallest one, a seeded shuffle split into training, validation and test
// rows (70/10/20 by default), texts tokenized and cut to a maximum length, padded with the end-of-text token
// to the longest training example. Everything here is seeded and deterministic.
import { LlmLabError } from '../errors';
import { Rng } from '../rng';
import type { Tokenizer } from '../tokenizer';
import type { LabelledText } from './records';
import { sortLabels } from './records';

export interface SplitOptions {
  /** Undersample each class to the size of the smallest. */
  balance: boolean;
  valFraction: number;
  testFraction: number;
  seed: number;
}

export interface SplitRows {
  labels: string[];
  /** Examples per class in the file, and after balancing (equal to perClass without it). */
  perClass: Record<string, number>;
  perClassBalanced: Record<string, number>;
  train: LabelledText[];
  val: LabelledText[];
  test: LabelledText[];
}

/** Fisher–Yates shuffle of a copy, driven by `rng`. */
function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function countBy(rows: readonly LabelledText[], labels: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) out[l] = 0;
  for (const r of rows) out[r.label]++;
  return out;
}

/** Sizes of the three parts of n rows: training floor(n·(1−val−test)), validation floor(n·val), test the rest (as the book). */
export function splitSizes(n: number, valFraction: number, testFraction: number): { train: number; val: number; test: number } {
  const train = Math.floor(n * (1 - valFraction - testFraction) + 1e-9);
  const val = Math.floor(n * valFraction + 1e-9);
  return { train, val, test: n - train - val };
}

/**
 * Balances (optionally), shuffles and splits the rows. Refuses, naming the file and line, a class that ends up
 * only in validation or test, and splits too small to train or measure on.
 */
export function splitRows(file: string, rows: readonly LabelledText[], o: SplitOptions): SplitRows {
  const labels = sortLabels(rows.map((r) => r.label));
  const perClass = countBy(rows, labels);
  let kept: LabelledText[] = rows.slice();
  const rng = new Rng(o.seed);
  if (o.balance) {
    const smallest = Math.min(...labels.map((l) => perClass[l]));
    const keep = new Set<LabelledText>();
    for (const l of labels) for (const r of shuffled(rows.filter((x) => x.label === l), rng).slice(0, smallest)) keep.add(r);
    kept = rows.filter((r) => keep.has(r)); // file order, then the split's shuffle
  }
  const perClassBalanced = countBy(kept, labels);
  const order = shuffled(kept, rng);
  const size = splitSizes(order.length, o.valFraction, o.testFraction);
  const train = order.slice(0, size.train);
  const val = order.slice(size.train, size.train + size.val);
  const test = order.slice(size.train + size.val);
  if (train.length === 0) {
    throw new LlmLabError('bad-data', `${file}: the training split is empty (${order.length} examples, val ${o.valFraction}, test ${o.testFraction}); use more data or smaller --val-fraction/--test-fraction.`);
  }
  if (o.valFraction > 0 && val.length === 0) {
    throw new LlmLabError('bad-data', `${file}: ${order.length} examples leave no validation example at --val-fraction ${o.valFraction}; use more data or a larger fraction.`);
  }
  if (o.testFraction > 0 && test.length === 0) {
    throw new LlmLabError('bad-data', `${file}: ${order.length} examples leave no test example at --test-fraction ${o.testFraction}; use more data or a larger fraction.`);
  }
  const trained = new Set(train.map((r) => r.label));
  for (const [part, list] of [['validation', val], ['test', test]] as const) {
    const stray = list.find((r) => !trained.has(r.label));
    if (stray) {
      throw new LlmLabError(
        'bad-data',
        `${file}:${stray.line}: label '${stray.label}' (${perClassBalanced[stray.label]} example(s)) is only in the ${part} split, never in training, so the model could not learn it; ` +
          'add more examples of it, remove it, or change --seed.',
      );
    }
  }
  return { labels, perClass, perClassBalanced, train, val, test };
}

/** Texts as token ids, padded to one length, with each row's real length and class index. */
export interface EncodedRows {
  /** Row-major (rows, length) ids; positions after a row's real tokens hold the pad id. */
  ids: Int32Array;
  /** Tokens of each row before padding (≥ 1). */
  lengths: Int32Array;
  /** Class index of each row in `labels`. */
  targets: Int32Array;
  rows: number;
  length: number;
  /** Rows whose text was cut to `length`. */
  truncated: number;
  /** Real tokens in all rows. */
  tokens: number;
}

/** Token ids of each text (a text that encodes to nothing is refused with its line). */
export function encodeTexts(file: string, rows: readonly LabelledText[], tokenizer: Tokenizer): number[][] {
  return rows.map((r) => {
    const ids = tokenizer.encode(r.text);
    if (ids.length === 0) throw new LlmLabError('bad-data', `${file}:${r.line}: the text encodes to no tokens; give it some text.`);
    return ids;
  });
}

/** Pads (or cuts) encoded texts to `length` with `padId`. */
export function padRows(encoded: readonly number[][], classes: readonly number[], length: number, padId: number): EncodedRows {
  const n = encoded.length;
  const ids = new Int32Array(n * length).fill(padId);
  const lengths = new Int32Array(n);
  const targets = Int32Array.from(classes);
  let truncated = 0;
  let tokens = 0;
  encoded.forEach((e, i) => {
    const L = Math.min(e.length, length);
    if (e.length > length) truncated++;
    for (let t = 0; t < L; t++) ids[i * length + t] = e[t];
    lengths[i] = L;
    tokens += L;
  });
  return { ids, lengths, targets, rows: n, length, truncated, tokens };
}

/** "n:hash" of the rows' ids, lengths and classes: equal for equal prepared data. */
export function fingerprintRows(parts: readonly EncodedRows[], labels: readonly string[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h = Math.imul(h ^ (x & 0xffff), 0x01000193);
    h = Math.imul(h ^ (x >>> 16), 0x01000193);
  };
  let n = 0;
  for (const p of parts) {
    mix(p.rows);
    mix(p.length);
    for (let i = 0; i < p.ids.length; i++) mix(p.ids[i]);
    for (let i = 0; i < p.rows; i++) {
      mix(p.lengths[i]);
      mix(p.targets[i]);
    }
    n += p.rows;
  }
  for (const l of labels) for (let i = 0; i < l.length; i++) mix(l.charCodeAt(i));
  return `${n}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
