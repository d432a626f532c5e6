// The one rule for a saved model's tokenizer: the encoding its config.json names (gpt2 when it names none,
// as a Hugging Face GPT-2 folder does), or 'trained' for a tokenizer trained with LLM Lab whose files sit
// beside config.json; an encoding LLM Lab does not have, or one with more tokens than the model's
// vocabulary, is a bad checkpoint rather than a silent fallback. A model trained with fill-in-the-middle
// records its three sentinel ids (llm_lab.fim), which are added to that tokenizer past its vocabulary.
import type { FimSentinels } from '../data/fim';
import { fimTokenIds, sentinelsOf } from '../data/fim';
import { LlmLabError } from '../errors';
import { withAddedSpecials } from '../tokenizer/addedSpecials';
import type { EncodingName, Tokenizer } from '../tokenizer';
import { ENCODING_NAMES, getTokenizer } from '../tokenizer';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { loadTokenizerSync } from '../tokenizer/files';
import type { LlmLabMeta } from './hfConfig';
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

const withSentinels = new WeakMap<Tokenizer, Map<string, Tokenizer>>();

/** `base` with the fill-in-the-middle sentinels added (built once per base tokenizer and sentinel ids). */
export function fimTokenizer(base: Tokenizer, s: FimSentinels): Tokenizer {
  const key = `${s.prefix},${s.middle},${s.suffix}`;
  let byKey = withSentinels.get(base);
  if (!byKey) withSentinels.set(base, (byKey = new Map()));
  let t = byKey.get(key);
  if (!t) byKey.set(key, (t = withAddedSpecials(base, fimTokenIds(s))));
  return t;
}

/**
 * What a model made from `base` (fine-tuned, merged, a classifier on its body) records of the base's
 * fill-in-the-middle sentinels: they stay in its vocabulary, so its config.json keeps `llm_lab.fim` and
 * completions from it still see the text after the cursor. Nothing when the base has none.
 */
export function inheritedFim(base: Partial<LlmLabMeta> | undefined): { fim?: FimSentinels } {
  const fim = sentinelsOf(base?.fim);
  return fim ? { fim: { ...fim } } : {};
}

/** The tokenizer of a loaded model, checked against the model's vocabulary. */
export function modelTokenizer(loaded: Pick<LoadedModel, 'meta' | 'config' | 'dir'>): Tokenizer {
  let tokenizer = loaded.meta.tokenizer === TRAINED_TOKENIZER ? loadTokenizerSync(loaded.dir) : getTokenizer(modelEncoding(loaded.meta.tokenizer));
  const fim = sentinelsOf(loaded.meta.fim);
  if (loaded.meta.fim !== undefined && !fim) {
    throw new LlmLabError('bad-checkpoint', `The model's config.json has an llm_lab.fim entry that is not three distinct token ids (${JSON.stringify(loaded.meta.fim)}); restore config.json from the run.`);
  }
  if (fim) {
    if (Math.min(fim.prefix, fim.middle, fim.suffix) < tokenizer.vocabSize) {
      throw new LlmLabError(
        'bad-checkpoint',
        `The model's fill-in-the-middle tokens (${fim.prefix}, ${fim.middle}, ${fim.suffix}) overlap its tokenizer's ids (${tokenizer.name}, 0..${tokenizer.vocabSize - 1}); restore config.json from the run.`,
      );
    }
    tokenizer = fimTokenizer(tokenizer, fim);
  }
  if (tokenizer.vocabSize > loaded.config.vocabSize) {
    throw new LlmLabError(
      'bad-checkpoint',
      `The model's vocabulary (${loaded.config.vocabSize}) is smaller than its tokenizer's (${tokenizer.name}, ${tokenizer.vocabSize}); the folder does not hold a model LLM Lab can run.`,
    );
  }
  return tokenizer;
}
