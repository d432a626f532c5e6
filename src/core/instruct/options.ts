// Options of an instruction fine-tuning run, their defaults and their checks. The defaults are the book's
// chapter 7: AdamW at a constant 5e-5 with weight decay 0.1, batch 8, 2 epochs, no dropout, no clipping, the
// alpaca prompt style, an 85/10/5 train/test/validation split, a loss check every 5 steps on 5 batches.
import { LlmLabError } from '../errors';
import type { LoraTrainOptions, ResolvedLoraOptions } from '../lora/training';
import { resolveLoraOptions } from '../lora/training';
import type { PresetName } from '../model/config';
import { isPresetName } from '../model/config';
import type { FinetuneLoopOptions, ResolvedFinetuneLoop } from '../train/loopOptions';
import { checkOption, FINETUNE_LOOP_DEFAULTS, FINETUNE_LOOP_RESUME_MUTABLE, isWhole, resolveFinetuneLoop } from '../train/loopOptions';
import type { InstructionRecord, PromptStyle } from './prompt';
import { promptStyleOf } from './prompt';

/** The options of an instruction run: the loop's (defaults in INSTRUCT_DEFAULTS) and the task's own. The run folder also gets test-responses.json. */
export interface InstructFinetuneOptions extends FinetuneLoopOptions {
  /** The base model: a model folder, a run folder (its latest checkpoint) or a Hugging Face GPT-2 folder. */
  modelDir?: string;
  /** Or start from a preset's freshly initialised weights (seeded by `seed`). */
  preset?: PresetName;
  /** The data: a JSON array or JSON Lines file of {instruction, input, output} (give this or `records`). */
  dataFile?: string;
  /** The data as records (give this or `dataFile`). */
  records?: readonly InstructionRecord[];
  /** How records become text; saved with the model. Default 'alpaca'. */
  promptStyle?: PromptStyle;
  /** Also ignore the prompt's targets (the book's exercise 7.2). Default false. */
  maskPrompt?: boolean;
  /** Dropout while training. Default 0 (the book fine-tunes with drop_rate 0.0). */
  dropout?: number;
  /** After training, generate the test split's responses into test-responses.json. Default true. */
  responses?: boolean;
  /** Tokens each generated response may have. Default 256. */
  maxResponseTokens?: number;
  /** Train LoRA adapters instead of the weights (the base frozen); `seed` also draws their A matrices. Default off. */
  lora?: LoraTrainOptions;
}

/** What run.json records: the loop's settings plus instruction fine-tuning's own. */
export interface ResolvedInstructOptions extends ResolvedFinetuneLoop {
  /** The base's checkpoint folder (absolute), or undefined for a preset. */
  modelDir?: string;
  preset?: PresetName;
  promptStyle: PromptStyle;
  maskPrompt: boolean;
  dropout: number;
  responses: boolean;
  maxResponseTokens: number;
  lora?: ResolvedLoraOptions;
}

/** The book's chapter 7 recipe (the loop's common defaults, 2 epochs, an 85/10/5 train/test/validation split, a loss check every 5 steps on 5 batches). */
export const INSTRUCT_DEFAULTS = {
  ...FINETUNE_LOOP_DEFAULTS,
  promptStyle: 'alpaca',
  maskPrompt: false,
  epochs: 2,
  dropout: 0,
  valFraction: 0.05,
  testFraction: 0.1,
  evalEvery: 5,
  evalBatches: 5,
  checkpointEvery: 50,
  responses: true,
  maxResponseTokens: 256,
} as const;

/** Settings a resumed run may change; the others define the run and must match its run.json. */
export const INSTRUCT_RESUME_MUTABLE: readonly (keyof ResolvedInstructOptions)[] = [...FINETUNE_LOOP_RESUME_MUTABLE, 'responses', 'maxResponseTokens'];

function bad(message: string): LlmLabError {
  return new LlmLabError('bad-argument', message);
}

/**
 * Fills in defaults and checks every value. `steps` is left 0 until the records are split (see resolveFinetuneLoop).
 */
export function resolveInstructOptions(o: Omit<InstructFinetuneOptions, 'outDir'>, modelDir: string | undefined): ResolvedInstructOptions {
  const d = INSTRUCT_DEFAULTS;
  if ((modelDir === undefined) === (o.preset === undefined)) throw bad('Give the base model as a model folder or a preset (exactly one of them).');
  if (o.preset !== undefined && !isPresetName(o.preset)) throw bad(`Unknown model preset '${String(o.preset)}'; use one of tiny, small, gpt2, gpt2-medium, gpt2-large, gpt2-xl.`);
  const r: ResolvedInstructOptions = {
    ...(modelDir !== undefined ? { modelDir } : { preset: o.preset }),
    promptStyle: promptStyleOf(o.promptStyle),
    maskPrompt: o.maskPrompt ?? d.maskPrompt,
    ...resolveFinetuneLoop(o, d),
    dropout: o.dropout ?? d.dropout,
    responses: o.responses ?? d.responses,
    maxResponseTokens: o.maxResponseTokens ?? d.maxResponseTokens,
    ...(o.lora ? { lora: resolveLoraOptions(o.lora) } : {}),
  };
  checkOption('dropout', r.dropout, (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkOption('maxResponseTokens', r.maxResponseTokens, (v) => isWhole(v) && v >= 1, 'a whole number ≥ 1');
  return r;
}

/** The training share of the split (what the validation and test shares leave), rounded off float noise. */
export function trainFraction(o: Pick<ResolvedInstructOptions, 'valFraction' | 'testFraction'>): number {
  return Math.round((1 - o.valFraction - o.testFraction) * 1e9) / 1e9;
}
