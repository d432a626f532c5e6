// An inline completion from a trained model: builds the prompt from the text around the cursor, generates
// with the KV cache, stops as soon as a stop rule fires, and fits the result to the text after the cursor.
// Between tokens it yields to the event loop, so a cancel that arrives as a message (the worker's IPC) is
// seen at once and the generation stops mid-way.
import { throwIfAborted } from '../errors';
import type { FimSentinels } from '../data/fim';
import { generate } from '../generate';
import type { GenerationTokenizer } from '../generate';
import type { DecodeSession } from '../model/decodeSession';
import type { GptModel } from '../model/gpt';
import type { CompletionContext } from './context';
import { buildCompletionPrompt } from './context';
import type { CompletionMode, StopReason } from './stops';
import { cursorIndent, cutAtStop } from './stops';
import { fitToSuffix } from './suffix';

export interface CompletionRequest extends CompletionContext {
  mode: CompletionMode;
  /** Lines a multi-line completion may span. */
  maxLines: number;
  /** Tokens to generate at most; lowered to fit the context when needed. */
  maxNewTokens: number;
  /** 0 (the default) always takes the most likely token. */
  temperature?: number;
  seed?: number;
}

export interface CompletionOptions {
  signal?: AbortSignal;
  /** The model's fill-in-the-middle sentinels, when it was trained with them. */
  fim?: FimSentinels;
  /**
   * The model's decode session kept between requests: a request computes only the positions after the prefix
   * it shares with the previous one (typing on, or an edit near the cursor). The caller must not change the
   * model's weights while it keeps one. Default: a session of this request's own.
   */
  session?: DecodeSession;
  /** Called after each generated token with the count so far (for tests and statistics). */
  onToken?: (generated: number) => void;
}

export interface CompletionResult {
  /** The suggestion ('' when there is none). */
  text: string;
  /** Tokens generated. */
  tokens: number;
  /** Tokens of the prompt. */
  promptTokens: number;
  stop: StopReason;
  /** Whether the prompt used the text after the cursor (fill-in-the-middle). */
  fim: boolean;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function completeText(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  req: CompletionRequest,
  opts: CompletionOptions = {},
): Promise<CompletionResult> {
  const ctx = model.config.contextLength;
  const maxNewTokens = Math.max(1, Math.min(req.maxNewTokens, ctx - (opts.fim ? 4 : 1)));
  const prompt = buildCompletionPrompt(tokenizer, req, { contextLength: ctx, maxNewTokens, fim: opts.fim });
  const rules = { mode: req.mode, maxLines: req.maxLines, indent: cursorIndent(req.prefix) };
  const stopIds = opts.fim ? [opts.fim.prefix, opts.fim.middle, opts.fim.suffix] : [];
  let text = '';
  let tokens = 0;
  let stop: StopReason = 'max-tokens';
  throwIfAborted(opts.signal);
  const stream = generate(model, tokenizer, prompt.ids, {
    maxNewTokens,
    temperature: req.temperature ?? 0,
    seed: req.seed ?? 0,
    signal: opts.signal,
    stopAtEot: true,
    stopIds,
    session: opts.session,
  });
  let cut: { text: string; stop?: StopReason } = { text: '' };
  for await (const t of stream) {
    tokens++;
    text += t.text;
    opts.onToken?.(tokens);
    cut = cutAtStop(text, rules);
    if (cut.stop) break;
    await nextTurn(); // lets a cancel message in before the next token is computed
    throwIfAborted(opts.signal);
  }
  if (!cut.stop) {
    if (tokens < maxNewTokens) stop = 'eot';
    cut = cutAtStop(text, rules, true);
  }
  stop = cut.stop ?? stop;
  const fitted = fitToSuffix(cut.text, req.suffix ?? '');
  return { text: fitted, tokens, promptTokens: prompt.ids.length, stop: fitted === '' && cut.text.trim() !== '' ? 'duplicate' : stop, fim: prompt.fim };
}
