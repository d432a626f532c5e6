// Using a classifier: the class and every class's probability for texts, and, for labelled rows, the loss,
// accuracy and confusion matrix beside each row's prediction. Texts are cut to the length the classifier was
// trained with (its context length for one made elsewhere), as the book's classify_review does.
import { LlmLabError, throwIfAborted } from '../errors';
import type { EncodedRows } from './dataset';
import { padRows } from './dataset';
import { scoreRows } from './evaluate';
import type { LoadedClassifier } from './files';
import type { LabelledText } from './records';

export interface Prediction {
  /** The most probable class. */
  label: string;
  /** Its index in the classifier's classes. */
  index: number;
  /** Every class's probability. */
  probabilities: Record<string, number>;
}

export interface PredictOptions {
  /** Texts per forward pass. Default 8. */
  batchSize?: number;
  signal?: AbortSignal;
}

function encode(loaded: LoadedClassifier, texts: readonly string[], targets: readonly number[], where: (i: number) => string): EncodedRows {
  const cap = Math.min(loaded.classifierMeta?.maxLength ?? loaded.config.contextLength, loaded.config.contextLength);
  const ids = texts.map((t, i) => {
    const e = loaded.tokenizer.encode(t);
    if (e.length === 0) throw new LlmLabError('bad-data', `${where(i)}: the text is empty; give some text to classify.`);
    return e;
  });
  const longest = Math.max(...ids.map((e) => e.length));
  return padRows(ids, targets, Math.min(longest, cap), loaded.tokenizer.eotId);
}

function predictions(loaded: LoadedClassifier, predicted: Int32Array, probabilities: Float32Array): Prediction[] {
  const K = loaded.labels.length;
  return Array.from(predicted, (index, i) => {
    const probs: Record<string, number> = {};
    loaded.labels.forEach((l, k) => (probs[l] = probabilities[i * K + k]));
    return { label: loaded.labels[index], index, probabilities: probs };
  });
}

/** The predicted class and class probabilities of each text, in order. */
export async function classify(loaded: LoadedClassifier, texts: readonly string[], opts: PredictOptions = {}): Promise<Prediction[]> {
  if (texts.length === 0) return [];
  const rows = encode(loaded, texts, texts.map(() => -1), (i) => `Text ${i + 1}`);
  const s = await scoreRows(loaded.classifier, rows, opts.batchSize ?? 8, 0, opts.signal);
  throwIfAborted(opts.signal);
  return predictions(loaded, s.predicted, s.probabilities);
}

export interface ClassifierEvaluation {
  accuracy: number;
  loss: number;
  confusion: { labels: string[]; counts: number[][] };
  /** One per row, in the rows' order. */
  predictions: Prediction[];
}

/** Measures a classifier on labelled rows (`file` names them in errors); each label must be one of its classes. */
export async function evaluateClassifier(loaded: LoadedClassifier, file: string, rows: readonly LabelledText[], opts: PredictOptions = {}): Promise<ClassifierEvaluation> {
  const classOf = new Map(loaded.labels.map((l, i) => [l, i]));
  const targets = rows.map((r) => {
    const k = classOf.get(r.label);
    if (k === undefined) throw new LlmLabError('bad-data', `${file}:${r.line}: label '${r.label}' is not one of the classifier's classes (${loaded.labels.join(', ')}).`);
    return k;
  });
  const enc = encode(loaded, rows.map((r) => r.text), targets, (i) => `${file}:${rows[i].line}`);
  const s = await scoreRows(loaded.classifier, enc, opts.batchSize ?? 8, 0, opts.signal);
  throwIfAborted(opts.signal);
  return { accuracy: s.accuracy, loss: s.loss, confusion: { labels: [...loaded.labels], counts: s.confusion }, predictions: predictions(loaded, s.predicted, s.probabilities) };
}
