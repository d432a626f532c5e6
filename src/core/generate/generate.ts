// Text generation from a GPT model: encodes the prompt, runs the model with a KV cache so each new token
// costs one position, chooses tokens (greedy, temperature, top-k, top-p, seeded) and streams them as an
// async generator of ids and text pieces, optionally with the top candidates and their probabilities.
//
// Past the context length the model sees the last `contextLength` tokens, as the book's generate does.
// GPT-2's positions are absolute, so cached keys cannot slide; once the text outgrows the context each
// step recomputes the last `contextLength` tokens in full (exactly the book's sliding window, at its cost).
import { tf } from '../engine';
import { LlmLabError, throwIfAborted, yieldAndCheck } from '../errors';
import { DecodeSession } from '../model/decodeSession';
import type { GptModel } from '../model/gpt';
import type { SamplingOptions } from './sampling';
import { Rng } from '../rng';
import { argmax, drawFrom, samplingDistribution, softmax, topEntries, validateSampling } from './sampling';
import type { TokenBytesSource } from './textStream';
import { TokenTextStream } from './textStream';

/** What generation needs of a tokenizer (the project's Tokenizer has all of it). */
export interface GenerationTokenizer extends TokenBytesSource {
  readonly eotId: number;
  encode(text: string, opts?: { allowSpecial?: boolean }): number[];
  decode(ids: ArrayLike<number>): string;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most (≥ 0). */
  maxNewTokens: number;
  /** Seed of the sampling generator; the same seed, model and prompt give the same tokens. Default: random. */
  seed?: number;
  /** Stop, without yielding it, when the model produces `<|endoftext|>`. Default true. */
  stopAtEot?: boolean;
  /** Further ids that end the generation the same way (e.g. a fill-in-the-middle model's sentinels). */
  stopIds?: readonly number[];
  /** Cancels between tokens with a CancelledError. */
  signal?: AbortSignal;
  /** Attach the N most likely next tokens of each step with their probabilities. Default 0 (none). */
  topCandidates?: number;
  /** Let `<|endoftext|>` in the prompt be the special token (default true) rather than plain text. */
  allowSpecial?: boolean;
  /** Skip the KV cache and recompute the window at every step (the reference the cached path is tested against). */
  noCache?: boolean;
  /**
   * Keys and values kept from earlier generations with the same model, whose common prefix with this prompt is
   * not computed again (an editor's completions). Default: a cache of this generation's own. The caller must not
   * change the model's weights while it keeps a session.
   */
  session?: DecodeSession;
  /** Use the backend's one-call forward pass when it has one (default true); false runs the model's tensor ops. */
  fused?: boolean;
  /** Called with each step's last-position logits (V) before the choice; for tests and inspection. */
  onLogits?: (logits: Float32Array) => void;
}

export interface Candidate {
  id: number;
  text: string;
  prob: number;
}

export interface GeneratedToken {
  id: number;
  /** New text this token completes; pieces joined equal the decode of all generated ids. */
  text: string;
  /** The most likely tokens of this step (probabilities of the distribution sampled from; with
   * temperature 0, of the model's plain softmax). Only with `topCandidates`. */
  candidates?: Candidate[];
}

/** The prompt's ids; an empty prompt starts from `<|endoftext|>` as GPT-2 does unconditioned. */
export function promptIds(tokenizer: GenerationTokenizer, prompt: string, allowSpecial = true): number[] {
  const ids = tokenizer.encode(prompt, { allowSpecial });
  return ids.length > 0 ? ids : [tokenizer.eotId];
}

/** Last-position logits of a full forward pass over `ids` (no cache), as a Float32Array (V). */
async function lastLogits(model: GptModel, ids: number[]): Promise<Float32Array> {
  const V = model.config.vocabSize;
  const row = tf.tidy(() => {
    const x = tf.tensor2d(ids, [1, ids.length], 'int32'); // (1, T)
    const { logits } = model.forward(x); // (1, T, V)
    return tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, V]), [V]); // (V)
  });
  const data = (await row.data()) as Float32Array;
  row.dispose();
  return data;
}

function checkOptions(model: GptModel, tokenizer: GenerationTokenizer, o: GenerateOptions): void {
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0)) {
    throw new LlmLabError('bad-argument', `max-new-tokens must be a whole number ≥ 0, got ${o.maxNewTokens}.`);
  }
  if (o.topCandidates !== undefined && !(Number.isInteger(o.topCandidates) && o.topCandidates >= 0)) {
    throw new LlmLabError('bad-argument', `topCandidates must be a whole number ≥ 0, got ${o.topCandidates}.`);
  }
  if (o.seed !== undefined && !Number.isFinite(o.seed)) {
    throw new LlmLabError('bad-argument', `The seed must be a number, got ${o.seed}.`);
  }
  validateSampling(o);
  if (tokenizer.eotId >= model.config.vocabSize) {
    throw new LlmLabError(
      'bad-argument',
      `The tokenizer's ids go up to ${tokenizer.eotId} but the model's vocabulary has ${model.config.vocabSize} entries; use the tokenizer the model was trained with.`,
    );
  }
}

/**
 * Streams generated tokens after a prompt (text, or token ids taken as they are). Each item is a token id
 * and the text it completes; a token that ends inside a UTF-8 character is held back until the character
 * is whole (or the generation ends).
 */
export async function* generate(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  prompt: string | readonly number[],
  opts: GenerateOptions,
): AsyncGenerator<GeneratedToken> {
  checkOptions(model, tokenizer, opts);
  const ctx = model.config.contextLength;
  const temperature = opts.temperature ?? 1;
  const stopAtEot = opts.stopAtEot ?? true;
  const nCand = opts.topCandidates ?? 0;
  const rng = new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const all = typeof prompt === 'string' ? promptIds(tokenizer, prompt, opts.allowSpecial ?? true) : [...prompt];
  if (all.length === 0) all.push(tokenizer.eotId);
  const stopIds = new Set(opts.stopIds ?? []);
  for (const id of all) {
    if (id >= model.config.vocabSize) {
      throw new LlmLabError('bad-argument', `The prompt has token ${id}, outside the model's vocabulary of ${model.config.vocabSize}.`);
    }
  }
  const stream = new TokenTextStream(tokenizer);
  // The cache holds absolute positions: once the text outgrows the context every step recomputes the window
  // (its tokens sit at new positions), as the uncached reference always does.
  const session = opts.noCache ? undefined : (opts.session ?? new DecodeSession(model, { fused: opts.fused }));
  const next = (): Promise<Float32Array> => (session ? session.logits(all.slice(-ctx)) : lastLogits(model, all.slice(-ctx)));
  let held: GeneratedToken | undefined;
  try {
    throwIfAborted(opts.signal);
    if (opts.maxNewTokens === 0) return;
    let logits = await next();
    for (let n = 1; n <= opts.maxNewTokens; n++) {
      throwIfAborted(opts.signal);
      opts.onLogits?.(logits);
      const dist = temperature > 0 ? samplingDistribution(logits, opts) : undefined;
      const id = dist ? drawFrom(dist, rng.float()) : argmax(logits);
      if ((stopAtEot && id === tokenizer.eotId) || stopIds.has(id)) break;
      const item: GeneratedToken = { id, text: '' };
      if (nCand > 0) {
        const probs = dist ?? softmax(logits);
        item.candidates = topEntries(probs, nCand).map((c) => ({ ...c, text: tokenizer.decode([c.id]) }));
      }
      const { text, pending } = stream.push(id);
      item.text = text;
      all.push(id);
      if (n === opts.maxNewTokens) {
        if (held) yield held;
        held = undefined;
        item.text += stream.flush();
        yield item;
        return;
      }
      // A token that leaves a character unfinished waits one step: if the generation ends there, the
      // unfinished bytes still reach the text (as U+FFFD, as a full decode would show them).
      if (held) yield held;
      held = undefined;
      if (pending) held = item;
      else yield item;
      await yieldAndCheck(opts.signal);
      logits = await next();
    }
    if (held) {
      held.text += stream.flush();
      yield held;
    }
  } finally {
    if (session && session !== opts.session) session.dispose();
    else session?.release();
  }
}

/** Generates and returns the whole continuation: its text and ids. */
export async function generateText(
  model: GptModel,
  tokenizer: GenerationTokenizer,
  prompt: string,
  opts: GenerateOptions,
): Promise<{ text: string; ids: number[] }> {
  let text = '';
  const ids: number[] = [];
  for await (const t of generate(model, tokenizer, prompt, opts)) {
    text += t.text;
    ids.push(t.id);
  }
  return { text, ids };
}
