// Batches of instruction data, exactly as the book's `custom_collate_fn` (chapter 7): each record's tokens get
// one <|endoftext|> appended and are padded with <|endoftext|> to the longest in the batch plus one; inputs are
// all but the last token, targets all but the first; in the targets every padding token after the first is the
// ignore index -100 (the first stays, so the model learns to end its answer); then both are cut to the context
// length. With `maskPrompt` (exercise 7.2) the targets before position promptLength − 1 are -100 as well, so
// only the response is learned.
import type { Tokenizer } from '../tokenizer';
import type { TokenBatch } from '../train/step';
import type { InstructionRecord, PromptStyle } from './prompt';
import { formatExample, formatPrompt } from './prompt';

/** The ignore index of the cross-entropy (PyTorch's default): a target that does not count. */
export const IGNORE_INDEX = -100;

/** One record's tokens and how many of them (tokenized alone) are its prompt. */
export interface EncodedExample {
  ids: number[];
  promptLength: number;
}

/** Tokenizes a record as the book's InstructionDataset does (the prompt alone is tokenized for its length). */
export function encodeExample(tokenizer: Pick<Tokenizer, 'encode'>, style: PromptStyle, r: InstructionRecord): EncodedExample {
  return { ids: tokenizer.encode(formatExample(style, r)), promptLength: tokenizer.encode(formatPrompt(style, r)).length };
}

export interface CollateOptions {
  /** Padding and end token (50256, <|endoftext|>, for GPT-2). */
  padId: number;
  /** Cut inputs and targets to this many positions (the model's context length). */
  maxLength?: number;
  /** Also ignore the prompt's targets (exercise 7.2). Default false. */
  maskPrompt?: boolean;
  /** Default -100. */
  ignoreIndex?: number;
}

/** A (B, T) batch of inputs and targets from encoded examples; see the header for the rules. */
export function collateInstructions(items: readonly EncodedExample[], o: CollateOptions): TokenBatch {
  const ignore = o.ignoreIndex ?? IGNORE_INDEX;
  const longest = Math.max(...items.map((e) => e.ids.length + 1));
  const T = Math.min(longest - 1, o.maxLength ?? Infinity);
  const B = items.length;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  items.forEach((item, b) => {
    const padded = [...item.ids, o.padId];
    while (padded.length < longest) padded.push(o.padId);
    const x = padded.slice(0, -1);
    const y = padded.slice(1);
    let seenPad = false;
    for (let t = 0; t < y.length; t++) {
      if (y[t] !== o.padId) continue;
      if (seenPad) y[t] = ignore;
      seenPad = true;
    }
    if (o.maskPrompt) for (let t = 0; t < item.promptLength - 1 && t < y.length; t++) y[t] = ignore;
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = x[t];
      targets[b * T + t] = y[t];
    }
  });
  return { inputs, targets, batchSize: B, seqLen: T };
}
