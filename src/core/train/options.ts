// Options of a pretraining run, their defaults and their checks. The defaults are the recipe that takes the
// `tiny` model on samples/the-verdict.txt below a training loss of 1: batch 8, AdamW lr 3e-3 with 50 warmup
// steps and cosine decay to 3e-4, global-norm clip 1.0, context 64 and stride 64, a 90/10 split.
import { LlmLabError } from '../errors';
import type { TrainLoopOptions } from './loopOptions';
import { checkCounts, checkLoopOptions, checkOption, isWhole, withLoopDefaults } from './loopOptions';
import type { LoopOptions } from './trainer';
import type { EncodingName } from '../tokenizer/vocab';
import type { GptConfig, PresetName } from '../model/config';
import { isPresetName, makeConfig } from '../model/config';

/** A pretraining run's options: the loop's (see TrainLoopOptions; defaults in PRETRAIN_DEFAULTS) and its own. */
export interface PretrainOptions extends TrainLoopOptions {
  /** Training text, tokenized with `tokenizer` (give this or `tokens`). */
  text?: string;
  /** Training data as token ids (give this or `text`). */
  tokens?: ArrayLike<number>;
  /** Tokenizer of `text` and of the sample prompt. Default 'gpt2'. */
  tokenizer?: EncodingName;
  /**
   * Folder of a trained tokenizer ('llm-lab tokenizer train'), used instead of `tokenizer`: it encodes the text
   * and the sample prompt, the model's vocabulary is its size, and its files are kept in the run folder and in
   * every checkpoint. A resumed run uses the run folder's copy.
   */
  tokenizerDir?: string;
  /** Model preset. Default 'tiny'. */
  preset?: PresetName;
  /** Model settings that override the preset (e.g. { contextLength: 128 }). */
  model?: Partial<GptConfig>;
  /** Train until this many optimizer steps in total (a resumed run continues up to it). Default 800. */
  steps?: number;
  /** Step between the starts of training windows. Default the context length (no overlap). */
  stride?: number;
  /** Greedy sample of `samplePrompt` every N steps (and at the end); 0 turns it off. Default 100. */
  sampleEvery?: number;
  /** Prompt of the samples. Default 'Every effort moves you'. */
  samplePrompt?: string;
  /** Tokens each sample adds. Default 25. */
  sampleTokens?: number;
  /**
   * Fill-in-the-middle: the share of documents (the files of the corpus, split at <|endoftext|>) cut at two
   * random characters into prefix, middle and suffix and rearranged around three sentinel tokens added to the
   * vocabulary (see data/fim.ts), drawn once per run from the seed. 0 (the default) trains left to right only.
   */
  fimRate?: number;
  /** Share of the fill-in-the-middle documents in suffix-prefix-middle order instead of prefix-suffix-middle. Default 0. */
  fimSpmRate?: number;
}

/** The options with every default filled in (what run.json records): the loop's settings plus pretraining's own. */
export interface ResolvedPretrainOptions extends LoopOptions {
  /** An encoding, or 'trained' for the run's own tokenizer (kept in the run folder). */
  tokenizer: EncodingName | 'trained';
  preset: PresetName;
  model: GptConfig;
  valFraction: number;
  stride: number;
  evalBatches: number;
  sampleEvery: number;
  samplePrompt: string;
  sampleTokens: number;
  /** Fill-in-the-middle rates (0: off). A run recorded before they existed has neither: read them as 0. */
  fimRate: number;
  fimSpmRate: number;
}

export const PRETRAIN_DEFAULTS = {
  tokenizer: 'gpt2',
  preset: 'tiny',
  steps: 800,
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 3e-3,
  warmupSteps: 50,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  gradClip: 1.0,
  valFraction: 0.1,
  evalEvery: 50,
  evalBatches: 0,
  sampleEvery: 100,
  samplePrompt: 'Every effort moves you',
  sampleTokens: 25,
  checkpointEvery: 100,
  keepCheckpoints: 2,
  seed: 123,
  fimRate: 0,
  fimSpmRate: 0,
} as const;

/**
 * Settings a resumed run may change; every other one must match the run's run.json, because it decides the
 * model, the data order or the optimizer's path.
 */
export const RESUME_MUTABLE: readonly (keyof ResolvedPretrainOptions)[] = [
  'steps', 'evalEvery', 'evalBatches', 'sampleEvery', 'samplePrompt', 'sampleTokens', 'checkpointEvery', 'keepCheckpoints',
];

function bad(message: string): LlmLabError {
  return new LlmLabError('bad-argument', message);
}

/** Fills in defaults and checks every value; errors say which option is wrong and what it must be. */
export function resolvePretrainOptions(o: PretrainOptions): ResolvedPretrainOptions {
  const d = PRETRAIN_DEFAULTS;
  const preset = o.preset ?? d.preset;
  if (!isPresetName(preset)) throw bad(`Unknown model preset '${String(preset)}'; use one of tiny, small, gpt2, gpt2-medium, gpt2-large, gpt2-xl.`);
  const model = makeConfig(preset, o.model ?? {});
  const lr = o.lr ?? d.lr;
  const steps = o.steps ?? d.steps;
  const r: ResolvedPretrainOptions = {
    tokenizer: o.tokenizer ?? d.tokenizer,
    preset,
    model,
    steps,
    ...withLoopDefaults(o, d),
    lr,
    minLr: o.minLr ?? lr / 10,
    warmupSteps: o.warmupSteps ?? Math.min(d.warmupSteps, Math.round(steps / 10)),
    stride: o.stride ?? model.contextLength,
    sampleEvery: o.sampleEvery ?? d.sampleEvery,
    samplePrompt: o.samplePrompt ?? d.samplePrompt,
    sampleTokens: o.sampleTokens ?? d.sampleTokens,
    fimRate: o.fimRate ?? d.fimRate,
    fimSpmRate: o.fimSpmRate ?? d.fimSpmRate,
  };
  checkOption('steps', r.steps, (v) => isWhole(v) && v >= 1, 'a whole number ≥ 1');
  checkLoopOptions(r, d.lr);
  checkOption('stride', r.stride, (v) => isWhole(v) && v >= 1, 'a whole number ≥ 1');
  checkOption('fimRate', r.fimRate, (v) => v >= 0 && v <= 1, 'a probability between 0 and 1');
  checkOption('fimSpmRate', r.fimSpmRate, (v) => v >= 0 && v <= 1, 'a probability between 0 and 1');
  if (r.fimSpmRate > 0 && r.fimRate === 0) throw bad('Training option fimSpmRate orders the fill-in-the-middle documents, so it needs fimRate above 0.');
  checkCounts(r, ['sampleEvery', 'sampleTokens']);
  return r;
}
