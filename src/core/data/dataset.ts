// Turns a token stream into training examples, as the book's GPTDatasetV1 does: a train/validation split of
// the stream, then sliding windows of `maxLength` tokens every `stride` tokens, each paired with the same
// window shifted one token ahead (the next-token targets). Windows are views into the stream, not copies.
import { LlmLabError, throwIfAborted } from '../errors';
import type { Tokenizer } from '../tokenizer';
import { DOCUMENT_SEPARATOR } from './corpus';

export class TokenWindows {
  /** How many full windows fit: a window needs maxLength + 1 tokens (inputs plus the last target). */
  readonly count: number;

  constructor(
    readonly ids: Int32Array,
    readonly maxLength: number,
    readonly stride: number,
  ) {
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new LlmLabError('bad-argument', `The window length (context length) must be a whole number of tokens >= 1, got ${maxLength}.`);
    }
    if (!Number.isInteger(stride) || stride < 1) {
      throw new LlmLabError('bad-argument', `The stride must be a whole number of tokens >= 1, got ${stride}.`);
    }
    this.count = ids.length > maxLength ? Math.floor((ids.length - maxLength - 1) / stride) + 1 : 0;
  }

  /** Offset of window i in the stream. */
  start(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new LlmLabError('bad-argument', `Window ${i} does not exist; there are ${this.count} windows.`);
    }
    return i * this.stride;
  }

  /** The maxLength input ids of window i (a view). */
  input(i: number): Int32Array {
    const s = this.start(i);
    return this.ids.subarray(s, s + this.maxLength);
  }

  /** The maxLength target ids of window i: the inputs shifted one token ahead (a view). */
  target(i: number): Int32Array {
    const s = this.start(i) + 1;
    return this.ids.subarray(s, s + this.maxLength);
  }
}

/** Splits a token stream as the book does: the first (1 - valFraction) for training, the rest for validation (views). */
export function splitTokens(ids: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new LlmLabError('bad-argument', `The validation fraction must be at least 0 and below 1 (e.g. 0.1), got ${valFraction}.`);
  }
  const trainLength = Math.floor((1 - valFraction) * ids.length + 1e-7); // the epsilon absorbs float error like 0.9 * 30
  return { train: ids.subarray(0, trainLength), val: ids.subarray(trainLength) };
}

export interface PreviewPair {
  index: number;
  inputIds: number[];
  targetIds: number[];
  input: string;
  target: string;
}

/** The first n windows as input -> target text, for showing what the model is trained on. */
export function previewPairs(windows: TokenWindows, tokenizer: Tokenizer, n: number): PreviewPair[] {
  const out: PreviewPair[] = [];
  for (let i = 0; i < Math.min(n, windows.count); i++) {
    const inputIds = Array.from(windows.input(i));
    const targetIds = Array.from(windows.target(i));
    out.push({ index: i, inputIds, targetIds, input: tokenizer.decode(inputIds), target: tokenizer.decode(targetIds) });
  }
  return out;
}

/** The book's next-token illustration for window i: each growing context and the token that follows it. */
export function nextTokenSteps(windows: TokenWindows, tokenizer: Tokenizer, i: number): { context: string; next: string }[] {
  const input = windows.input(i);
  const target = windows.target(i);
  return Array.from(input, (_, k) => ({ context: tokenizer.decode(input.subarray(0, k + 1)), next: tokenizer.decode([target[k]]) }));
}

export interface EncodeCorpusOptions {
  signal?: AbortSignal;
  /** Called with characters encoded so far and the total. */
  onProgress?: (doneChars: number, totalChars: number) => void;
  /** About how many characters to encode between yields (default 1M). */
  chunkChars?: number;
}

/**
 * Encodes a corpus text document by document into one token stream: the documents (the text split at
 * `<|endoftext|>`) go in order to `encodeGroup` in runs of about `chunkChars` characters, and between runs it
 * reports progress, yields to the event loop and stops if cancelled. `encodeGroup(docs, first)` gives the ids of
 * its documents with the end-of-text token before each one, except before the text's first (when `first`).
 */
export async function encodeByDocuments(text: string, encodeGroup: (docs: string[], first: boolean) => number[], opts: EncodeCorpusOptions = {}): Promise<Int32Array> {
  const parts: number[][] = [];
  let total = 0;
  let done = 0;
  const chunk = opts.chunkChars ?? 1 << 20;
  const docs = text.split(DOCUMENT_SEPARATOR);
  let from = 0;
  let chars = 0;
  for (let d = 0; d < docs.length; d++) {
    chars += (d > 0 ? DOCUMENT_SEPARATOR.length : 0) + docs[d].length;
    if (chars < chunk && d < docs.length - 1) continue;
    throwIfAborted(opts.signal);
    const ids = encodeGroup(docs.slice(from, d + 1), from === 0);
    parts.push(ids);
    total += ids.length;
    done += chars;
    from = d + 1;
    chars = 0;
    opts.onProgress?.(done, text.length);
    await new Promise<void>((r) => setImmediate(r));
  }
  throwIfAborted(opts.signal);
  const out = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Encodes a corpus text (documents joined with `<|endoftext|>`, which becomes the end-of-text token) into one
 * token stream, a run of documents in each call to the tokenizer (see encodeByDocuments); the ids equal
 * tokenizer.encode(text, { allowSpecial: true }) because special tokens already cut the text there.
 */
export function encodeCorpus(text: string, tokenizer: Tokenizer, opts: EncodeCorpusOptions = {}): Promise<Int32Array> {
  const encodeRun = (docs: string[], first: boolean): number[] => tokenizer.encode((first ? '' : DOCUMENT_SEPARATOR) + docs.join(DOCUMENT_SEPARATOR), { allowSpecial: true });
  return encodeByDocuments(text, encodeRun, opts);
}

export interface PreparedTokens {
  ids: Int32Array;
  train: TokenWindows;
  val: TokenWindows;
}

/**
 * The book's data recipe in one call: encode the corpus, split off the last `valFraction` (default 0.1) for
 * validation, and cut both parts into windows of `contextLength` tokens every `stride` (default contextLength)
 * tokens. Fails with advice when either part is too short for one window.
 */
export async function prepareTokens(
  text: string,
  tokenizer: Tokenizer,
  opts: EncodeCorpusOptions & { contextLength: number; stride?: number; valFraction?: number },
): Promise<PreparedTokens> {
  const { contextLength, stride = contextLength, valFraction = 0.1 } = opts;
  const ids = await encodeCorpus(text, tokenizer, opts);
  const split = splitTokens(ids, valFraction);
  const train = new TokenWindows(split.train, contextLength, stride);
  const val = new TokenWindows(split.val, contextLength, stride);
  const need = contextLength + 1;
  if (train.count === 0) {
    throw new LlmLabError(
      'bad-data',
      `The corpus has ${ids.length} tokens, so the training part (${split.train.length}) is shorter than one window of ${need}; add text or lower the context length.`,
    );
  }
  if (valFraction > 0 && val.count === 0) {
    throw new LlmLabError(
      'bad-data',
      `The validation part has ${split.val.length} tokens, fewer than one window of ${need}; raise the validation fraction, add text or lower the context length.`,
    );
  }
  return { ids, train, val };
}
