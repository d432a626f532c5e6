// Fill-in-the-middle (FIM) data, after Bavarian et al. (2022), "Efficient Training of Language Models to Fill
// in the Middle", as StarCoder trains: with probability `rate` a document is cut at two random character
// positions into prefix, middle and suffix and rearranged around three sentinel tokens, so that a left-to-right
// model learns to write the middle after seeing both sides:
//
//   PSM  <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle
//   SPM  <|fim_prefix|> <|fim_suffix|> suffix <|fim_middle|> prefix middle
//
// SPM (chosen with probability `spmRate` among transformed documents) is the paper's variant that keeps
// prefix and middle adjacent (its appendix D). Each part is encoded on its own; the document separator
// (<|endoftext|>) that follows the document is left to the caller. Other documents stay as they are.
import { LlmLabError } from '../errors';
import { Rng } from '../rng';
import type { Tokenizer } from '../tokenizer';
import type { EncodeCorpusOptions } from './dataset';
import { encodeByDocuments } from './dataset';

/** The sentinel texts, as StarCoder's tokenizer names them. */
export const FIM_TOKEN_TEXT = { prefix: '<|fim_prefix|>', middle: '<|fim_middle|>', suffix: '<|fim_suffix|>' } as const;

/** The sentinels' token ids in a model's vocabulary. */
export interface FimSentinels {
  prefix: number;
  middle: number;
  suffix: number;
}

/** Sentinels appended to a vocabulary of `vocabSize` ids: prefix, middle, suffix get the next three ids. */
export function sentinelsAfter(vocabSize: number): FimSentinels {
  return { prefix: vocabSize, middle: vocabSize + 1, suffix: vocabSize + 2 };
}

/** The sentinels as added special tokens: text -> id. */
export function fimTokenIds(s: FimSentinels): Record<string, number> {
  return { [FIM_TOKEN_TEXT.prefix]: s.prefix, [FIM_TOKEN_TEXT.middle]: s.middle, [FIM_TOKEN_TEXT.suffix]: s.suffix };
}

/** The sentinels a model's config.json records (llm_lab.fim), when they are three distinct whole ids. */
export function sentinelsOf(value: unknown): FimSentinels | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Partial<Record<keyof FimSentinels, unknown>>;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!ok(f.prefix) || !ok(f.middle) || !ok(f.suffix)) return undefined;
  if (new Set([f.prefix, f.middle, f.suffix]).size !== 3) return undefined;
  return { prefix: f.prefix, middle: f.middle, suffix: f.suffix };
}

export interface FimOptions {
  /** Share of documents transformed, 0..1. */
  rate: number;
  /** Share of the transformed documents put in SPM order rather than PSM, 0..1. Default 0. */
  spmRate?: number;
}

/** What the random draws need: a uniform float in [0, 1) and a uniform integer in [0, n). */
export interface FimRandom {
  float(): number;
  int(n: number): number;
}

export type FimOrder = 'psm' | 'spm';

export interface FimSplit {
  /** Undefined for a document left as it is. */
  order?: FimOrder;
  prefix: string;
  middle: string;
  suffix: string;
}

export function checkFimOptions(o: FimOptions): void {
  for (const [name, v] of [['fim-rate', o.rate], ['fim-spm-rate', o.spmRate ?? 0]] as const) {
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new LlmLabError('bad-argument', `--${name} is a probability between 0 and 1, got ${v}.`);
    }
  }
}

/** Moves a cut that falls between the two halves of a surrogate pair to before the pair. */
function onCharBoundary(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return at > 0 && at < text.length && c >= 0xdc00 && c <= 0xdfff ? at - 1 : at;
}

/**
 * Decides one document's fate with three kinds of draws, in this order: one float (transform when below
 * `rate`), then two integers in [0, length] (the cut points, sorted), then one float (SPM when below `spmRate`).
 * A document that is not transformed is returned whole as `prefix`.
 */
export function splitForFim(doc: string, rng: FimRandom, o: FimOptions): FimSplit {
  if (o.rate <= 0 || !(rng.float() < o.rate)) return { prefix: doc, middle: '', suffix: '' };
  let a = onCharBoundary(doc, rng.int(doc.length + 1));
  let b = onCharBoundary(doc, rng.int(doc.length + 1));
  if (a > b) [a, b] = [b, a];
  const order: FimOrder = (o.spmRate ?? 0) > 0 && rng.float() < (o.spmRate ?? 0) ? 'spm' : 'psm';
  return { order, prefix: doc.slice(0, a), middle: doc.slice(a, b), suffix: doc.slice(b) };
}

/** The token ids of a split document, sentinels included (see the header for the two orders). */
export function fimIds(split: FimSplit, encode: (text: string) => number[], s: FimSentinels): number[] {
  if (!split.order) return encode(split.prefix);
  const [p, m, x] = [encode(split.prefix), encode(split.middle), encode(split.suffix)];
  if (split.order === 'psm') return [s.prefix, ...p, s.suffix, ...x, s.middle, ...m];
  return [s.prefix, s.suffix, ...x, s.middle, ...p, ...m];
}

/** One document's ids after the FIM transformation (or plain, for the documents it leaves alone). */
export function fimDocument(doc: string, rng: FimRandom, o: FimOptions, encode: (text: string) => number[], s: FimSentinels): number[] {
  return fimIds(splitForFim(doc, rng, o), encode, s);
}

/** The generator of a run's fill-in-the-middle draws: its own stream, derived from the run's seed. */
export function fimRng(seed: number): Rng {
  return new Rng(seed + 0x46494d); // "FIM": apart from the streams of the weights and the batch order
}

/**
 * Encodes a corpus text (documents joined with <|endoftext|>) as `encodeCorpus` does, with the FIM
 * transformation applied to each non-empty document in order, the draws taken from `rng` (a run passes
 * `fimRng(seed)`: the same text and seed always give the same ids, so a resumed run sees the same data).
 * `tokenizer` is the one without the sentinels, so a sentinel's text inside a document stays ordinary text.
 */
export async function encodeFimCorpus(
  text: string,
  tokenizer: Pick<Tokenizer, 'encode' | 'eotId'>,
  o: FimOptions,
  s: FimSentinels,
  rng: FimRandom,
  opts: EncodeCorpusOptions = {},
): Promise<Int32Array> {
  checkFimOptions(o);
  const encode = (t: string): number[] => tokenizer.encode(t, { allowSpecial: true });
  const encodeRun = (docs: string[], first: boolean): number[] => {
    const ids: number[] = [];
    docs.forEach((doc, i) => {
      if (!first || i > 0) ids.push(tokenizer.eotId);
      if (doc !== '') for (const id of fimDocument(doc, rng, o, encode, s)) ids.push(id);
    });
    return ids;
  };
  return encodeByDocuments(text, encodeRun, opts);
}
