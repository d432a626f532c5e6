// A trained byte-level BPE tokenizer as data: its split pattern, its merge list and its special tokens. Ids are
// fixed by that data alone: 0..255 are the single bytes (id = byte value), merge i joins its two tokens into
// id 256 + i, and the special tokens follow the merges (`<|endoftext|>` first). This module checks such data
// and turns it into the Vocab the encoder runs on.
import { LlmLabError } from '../errors';
import type { SplitPattern, Vocab } from './vocab';
import { mergeKey, packVocab, utf8Binary } from './vocab';

/** The token every LLM Lab tokenizer has: it separates documents and ends generation. */
export const END_OF_TEXT = '<|endoftext|>';

/** What a model's config.json names as its tokenizer when the tokenizer's files sit beside it. */
export const TRAINED_TOKENIZER = 'trained';

/** Largest vocabulary a trained tokenizer may have (ids must stay below 2^21 for the merge table's keys). */
export const MAX_TRAINED_VOCAB = 1 << 20;

export interface BpeModel {
  /** The tokenizer's name (shown beside counts; the folder's name by default). */
  name: string;
  /** Pre-tokenization split: GPT-2's or GPT-4's pattern. */
  pattern: SplitPattern;
  /** Merge i joins token `left` followed by token `right` into token 256 + i, in the order learned. */
  merges: Array<[left: number, right: number]>;
  /** Special tokens, `<|endoftext|>` first; special k has id 256 + merges.length + k. */
  specials: string[];
}

/** Id of the first special token (`<|endoftext|>`). */
export function firstSpecialId(model: Pick<BpeModel, 'merges'>): number {
  return 256 + model.merges.length;
}

/** Checks the special tokens a user asked for and puts `<|endoftext|>` first (adding it when absent). */
export function normalizeSpecials(specials: readonly string[]): string[] {
  const out = [END_OF_TEXT];
  for (const s of specials) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 200 || /\s/.test(s)) {
      throw new LlmLabError('bad-argument', `Special token ${JSON.stringify(s)} must be 1 to 200 characters without whitespace, e.g. <|pad|>.`);
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function bad(where: string, what: string): LlmLabError {
  return new LlmLabError('bad-checkpoint', `${where}: ${what}. Train the tokenizer again with 'llm-lab tokenizer train'.`);
}

/**
 * The Vocab of a model, after checking it: every merge joins two earlier tokens, no two tokens have the same
 * bytes, the specials are distinct and start with `<|endoftext|>`. `where` names the file for messages.
 */
export function vocabOfModel(model: BpeModel, where: string): Vocab {
  const { merges, specials } = model;
  const size = 256 + merges.length + specials.length;
  if (size > MAX_TRAINED_VOCAB) throw bad(where, `${size} tokens is more than the ${MAX_TRAINED_VOCAB} LLM Lab supports`);
  if (specials[0] !== END_OF_TEXT) throw bad(where, `the first special token must be ${END_OF_TEXT}`);
  const keys: string[] = new Array<string>(size);
  const ranks = new Map<string, number>();
  const mergeMap = new Map<number, number>();
  for (let b = 0; b < 256; b++) {
    keys[b] = String.fromCharCode(b);
    ranks.set(keys[b], b);
  }
  for (let i = 0; i < merges.length; i++) {
    const id = 256 + i;
    const [l, r] = merges[i];
    if (!Number.isInteger(l) || !Number.isInteger(r) || l < 0 || r < 0 || l >= id || r >= id) {
      throw bad(where, `merge ${i + 1} (${l} ${r}) does not join two earlier tokens`);
    }
    const joined = keys[l] + keys[r];
    if (ranks.has(joined)) throw bad(where, `merge ${i + 1} makes the bytes of token ${ranks.get(joined)} a second time`);
    keys[id] = joined;
    ranks.set(joined, id);
    mergeMap.set(mergeKey(l, r), id);
  }
  const specialMap = new Map<string, number>();
  specials.forEach((s, k) => {
    if (typeof s !== 'string' || s === '' || specialMap.has(s)) throw bad(where, `special token ${k + 1} is empty or repeated`);
    const id = 256 + merges.length + k;
    specialMap.set(s, id);
    keys[id] = utf8Binary(s);
  });
  return packVocab({ name: model.name, pattern: model.pattern, ranks, specials: specialMap, merges: mergeMap }, keys, size);
}
