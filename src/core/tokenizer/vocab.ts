// The BPE vocabularies of the supported encodings, read from the rank files that js-tiktoken ships (no
// download). A vocabulary maps each token's bytes, held as a "binary string" (one char per byte, so ASCII
// text is its own key), to its rank = token id, and keeps every token's bytes in one flat buffer for decoding.

import type { Encoding } from '../../protocol/model';
import { ENCODINGS } from '../../protocol/model';

/** The encodings are listed once, in src/protocol/model.ts. */
export type EncodingName = Encoding;
export const ENCODING_NAMES: readonly EncodingName[] = ENCODINGS;

/** How text is split into pieces before BPE: GPT-2's pattern, GPT-4's (cl100k_base) or GPT-4o's (o200k_base). */
export type SplitPattern = 'gpt2' | 'gpt4' | 'gpt4o';

export const SPLIT_PATTERNS: readonly SplitPattern[] = ['gpt2', 'gpt4', 'gpt4o'];

const PATTERN_OF: Record<EncodingName, SplitPattern> = { gpt2: 'gpt2', cl100k_base: 'gpt4', o200k_base: 'gpt4o' };

export interface Vocab {
  /** The encoding's name (gpt2, cl100k_base, o200k_base) or a trained tokenizer's. */
  readonly name: string;
  readonly pattern: SplitPattern;
  /** Token bytes as a binary string -> rank (= id), ordinary tokens only. */
  readonly ranks: Map<string, number>;
  /**
   * A trained tokenizer's merge list as (left id, right id) -> joined id, keyed by mergeKey. When present only
   * these pairs join (as Hugging Face's BPE does); when absent two parts join whenever their joined bytes are a
   * token (as tiktoken does). Either way a lower joined id merges first.
   */
  readonly merges?: Map<number, number>;
  /** Special token text -> id. */
  readonly specials: Map<string, number>;
  /** One more than the largest id (ordinary or special). */
  readonly size: number;
  /** All tokens' bytes back to back; token id's bytes are bytes[offsets[id] .. offsets[id + 1]]. */
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
  /** Whether an id in 0..size-1 names a token (some encodings leave gaps before their specials). */
  readonly present: Uint8Array;
}

interface RankFile {
  bpe_ranks: string;
  special_tokens: Record<string, number>;
}

// js-tiktoken is an ES module package whose CommonJS build TypeScript cannot see from our CommonJS output, so
// the rank files are required directly; this also loads only the encodings that are used (o200k is 2 MB).
/* eslint-disable @typescript-eslint/no-require-imports */
const SOURCES: Record<EncodingName, () => RankFile> = {
  gpt2: () => require('js-tiktoken/ranks/gpt2') as RankFile,
  cl100k_base: () => require('js-tiktoken/ranks/cl100k_base') as RankFile,
  o200k_base: () => require('js-tiktoken/ranks/o200k_base') as RankFile,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Parses js-tiktoken's compact rank format: lines of `<tag> <first rank> <base64 token> <base64 token> ...`. */
export function buildVocab(name: EncodingName): Vocab {
  const src = SOURCES[name]();
  const ranks = new Map<string, number>();
  const keys: string[] = [];
  let size = 0;
  for (const line of src.bpe_ranks.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1], 10);
    for (let f = 2; f < fields.length; f++) {
      const key = atob(fields[f]); // binary string: one char per byte
      const id = first + f - 2;
      ranks.set(key, id);
      keys[id] = key;
      size = Math.max(size, id + 1);
    }
  }
  const specials = new Map<string, number>();
  for (const [text, id] of Object.entries(src.special_tokens)) {
    specials.set(text, id);
    keys[id] = utf8Binary(text);
    size = Math.max(size, id + 1);
  }
  return packVocab({ name, pattern: PATTERN_OF[name], ranks, specials }, keys, size);
}

/** A Vocab from each id's bytes as a binary string (`keys[id]`, undefined for unused ids below `size`). */
export function packVocab(
  parts: Pick<Vocab, 'name' | 'pattern' | 'ranks' | 'specials' | 'merges'>,
  keys: readonly (string | undefined)[],
  size: number,
): Vocab {
  let total = 0;
  for (let id = 0; id < size; id++) total += keys[id]?.length ?? 0;
  const bytes = new Uint8Array(total);
  const offsets = new Int32Array(size + 1);
  const present = new Uint8Array(size);
  let at = 0;
  for (let id = 0; id < size; id++) {
    offsets[id] = at;
    const key = keys[id];
    if (key === undefined) continue;
    present[id] = 1;
    for (let b = 0; b < key.length; b++) bytes[at++] = key.charCodeAt(b);
  }
  offsets[size] = at;
  return { ...parts, size, bytes, offsets, present };
}

/** The key of the pair (left, right) in Vocab.merges (ids below 2^21). */
export function mergeKey(left: number, right: number): number {
  return left * 0x200000 + right;
}

/** UTF-8 of a string as a binary string; lone surrogates become U+FFFD, as TextEncoder does. */
export function utf8Binary(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out += s[i];
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x800) out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else
      out += String.fromCharCode(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}
