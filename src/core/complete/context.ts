// The prompt of an inline completion: the text before the cursor, cut at a token boundary so that the
// prompt plus the new tokens fit the model's context; for a model trained with fill-in-the-middle, the text
// after the cursor too, in the prefix-suffix-middle order the model was trained on.
import { LlmLabError } from '../errors';
import type { FimSentinels } from '../data/fim';

/** What context building needs of a tokenizer. */
export interface ContextTokenizer {
  readonly eotId: number;
  encode(text: string): number[];
}

export interface CompletionContext {
  /** Text before the cursor; the editor may send only its tail. */
  prefix: string;
  /** True when `prefix` starts inside the document (its first characters may be part of a word). */
  prefixTruncated?: boolean;
  /** Text after the cursor; the editor may send only its head. */
  suffix?: string;
  /** True when `suffix` ends inside the document. */
  suffixTruncated?: boolean;
}

export interface ContextLimits {
  /** Positions the model sees. */
  contextLength: number;
  /** Tokens the completion may add; the prompt gets what is left. */
  maxNewTokens: number;
  /** The model's fill-in-the-middle tokens; without them the suffix is not used. */
  fim?: FimSentinels;
  /** Share of a fill-in-the-middle prompt kept for the suffix when both sides are long. Default 0.25. */
  suffixShare?: number;
}

export interface CompletionPrompt {
  /** Token ids to feed the model. */
  ids: number[];
  /** How many of them come from the prefix and from the suffix. */
  prefixTokens: number;
  suffixTokens: number;
  /** Whether the prompt is in the fill-in-the-middle form. */
  fim: boolean;
}

/** Tokens the prompt may hold: the context minus the new tokens (at least one position each). */
export function promptBudget(limits: ContextLimits): number {
  const { contextLength, maxNewTokens } = limits;
  const sentinels = limits.fim ? 3 : 0;
  const budget = contextLength - maxNewTokens - sentinels;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1) || budget < 1) {
    throw new LlmLabError(
      'bad-argument',
      `A completion of ${maxNewTokens} new tokens does not fit the model's context of ${contextLength} tokens; ` +
        `set llmLab.inlineCompletion.maxNewTokens below ${contextLength - sentinels}.`,
    );
  }
  return budget;
}

/**
 * The ids of the text's end, at most `max` of them. The text is encoded whole and its last tokens kept, so the
 * cut falls between two tokens of the full encoding, never inside one; when the text itself was cut by the
 * caller, its first token may be a piece of a word and is dropped.
 */
export function tailTokens(tok: ContextTokenizer, text: string, max: number, truncated = false): number[] {
  const ids = tok.encode(text);
  const from = Math.max(truncated ? 1 : 0, ids.length - max);
  return ids.slice(from);
}

/** The ids of the text's start, at most `max`; when the caller cut the text, its last token is dropped. */
export function headTokens(tok: ContextTokenizer, text: string, max: number, truncated = false): number[] {
  const ids = tok.encode(text);
  const to = Math.min(truncated ? Math.max(0, ids.length - 1) : ids.length, max);
  return ids.slice(0, to);
}

export function buildCompletionPrompt(tok: ContextTokenizer, c: CompletionContext, limits: ContextLimits): CompletionPrompt {
  const budget = promptBudget(limits);
  const fim = limits.fim;
  if (!fim) {
    const ids = tailTokens(tok, c.prefix, budget, c.prefixTruncated);
    // An empty prompt starts from <|endoftext|>, as an unconditioned GPT-2 does.
    return ids.length ? { ids, prefixTokens: ids.length, suffixTokens: 0, fim: false } : { ids: [tok.eotId], prefixTokens: 0, suffixTokens: 0, fim: false };
  }
  const share = limits.suffixShare ?? 0.25;
  const prefixIds = tailTokens(tok, c.prefix, budget, c.prefixTruncated);
  const suffixAll = headTokens(tok, c.suffix ?? '', budget, c.suffixTruncated);
  // The suffix gets its share, or more when the prefix leaves room; the prefix gets the rest.
  const suffixKeep = Math.min(suffixAll.length, Math.max(budget - prefixIds.length, Math.floor(budget * share)));
  const prefixKeep = Math.min(prefixIds.length, budget - suffixKeep);
  const p = prefixIds.slice(prefixIds.length - prefixKeep);
  const s = suffixAll.slice(0, suffixKeep);
  return { ids: [fim.prefix, ...p, fim.suffix, ...s, fim.middle], prefixTokens: p.length, suffixTokens: s.length, fim: true };
}
