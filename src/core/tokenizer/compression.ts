// How well tokenizers compress the same texts: tokens and characters, counted document by document with
// pauses for cancellation, so a trained tokenizer can be set beside GPT-2's on the files it was trained on.
import { CancelledError } from '../errors';
import type { Tokenizer } from './index';

export interface Compression {
  /** The tokenizer's name. */
  name: string;
  tokens: number;
  /** UTF-16 characters of the texts. */
  chars: number;
  /** Tokens per character (lower compresses better). */
  tokensPerChar: number;
}

/** Token counts of each tokenizer over the texts (specials in the texts count as one token each). */
export async function measureCompression(texts: readonly string[], tokenizers: readonly Tokenizer[], signal?: AbortSignal): Promise<Compression[]> {
  const chars = texts.reduce((n, t) => n + t.length, 0);
  const out: Compression[] = [];
  for (const tok of tokenizers) {
    let tokens = 0;
    for (const text of texts) {
      tokens += tok.encode(text, { allowSpecial: true }).length; // a whole file at a time: exact counts
      await new Promise<void>((r) => setImmediate(r));
      if (signal?.aborted) throw new CancelledError();
    }
    out.push({ name: tok.name, tokens, chars, tokensPerChar: chars ? tokens / chars : 0 });
  }
  return out;
}
