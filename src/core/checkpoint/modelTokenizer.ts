// The one rule for a saved model's tokenizer: the encoding its config.json names (gpt2 when it names none,
// as a Hugging Face GPT-2 folder does), or 'trained' for a tokenizer trained with LLM Lab whose files sit
// beside config.json; an encoding LLM Lab does not have, or one with more tokens than the model's
// vocabulary, is a bad checkpoint rather than a silent fallback.
import { LlmLabError } from '../errors';
import type { EncodingName, Tokenizer } from '../tokenizer';
import { ENCODING_NAMES, getTokenizer } from '../tokenizer';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { loadTokenizerSync } from '../tokenizer/files';
import type { LoadedModel } from './modelFiles';

/** The encoding a checkpoint's config names; throws `bad-checkpoint` for one LLM Lab does not have. */
export function modelEncoding(name: unknown): EncodingName {
  if (name === undefined) return 'gpt2';
  if (typeof name === 'string' && (ENCODING_NAMES as readonly string[]).includes(name)) return name as EncodingName;
  throw new LlmLabError(
    'bad-checkpoint',
    `The model's config.json names tokenizer '${String(name)}', which LLM Lab does not have (it has ${ENCODING_NAMES.join(', ')}, or '${TRAINED_TOKENIZER}' with the tokenizer's files beside config.json).`,
  );
}

/** The tokenizer of a loaded model, checked against the model's vocabulary. */
export function modelTokenizer(loaded: Pick<LoadedModel, 'meta' | 'config' | 'dir'>): Tokenizer {
  const tokenizer = loaded.meta.tokenizer === TRAINED_TOKENIZER ? loadTokenizerSync(loaded.dir) : getTokenizer(modelEncoding(loaded.meta.tokenizer));
  if (tokenizer.vocabSize > loaded.config.vocabSize) {
    throw new LlmLabError(
      'bad-checkpoint',
      `The model's vocabulary (${loaded.config.vocabSize}) is smaller than its tokenizer's (${tokenizer.name}, ${tokenizer.vocabSize}); the folder does not hold a model LLM Lab can run.`,
    );
  }
  return tokenizer;
}
