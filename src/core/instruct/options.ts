// Options of an instruction fine-tuning run, their defaults and their checks. The defaults are the book's
// chapter 7: AdamW at a constant 5e-5 with weight decay 0.1, batch 8, 2 epochs, no dropout, no clipping, the
// alpaca prompt style, an 85/10/5 train/test/validation split, a loss check every 5 steps on 5 batches.
import { LlmLabError } from '../errors';
import type { LoraTrainOptions, ResolvedLoraOptions } from '../lora/training';
import { resolveLoraOptions } from '../lora/training';
import type { PresetName } from '../model/config';
import { isPresetName } from '../model/config';
import type { LoopOptions } from '../train/trainer';
import type { InstructionRecord, PromptStyle } from './prompt';
import { promptStyleOf } from './prompt';

export interface InstructFinetuneOptions {
  /** Run folder: run.json, metrics.jsonl, checkpoints/ and test-responses.json go here. Required. */
  outDir: string;
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
  /** Passes over the training records; steps = epochs × floor(training records / batch). Default 2. */
  epochs?: number;
  /** Records per optimizer step. Default 8. */
  batchSize?: number;
  /** Micro-batches a step's batch is split into to save memory; must divide batchSize. Default 1. */
  gradAccumSteps?: number;
  /** AdamW learning rate. Default 5e-5. */
  lr?: number;
  /** Learning rate the cosine decay ends at. Default lr (a constant rate, as the book). */
  minLr?: number;
  /** Steps of linear warmup. Default 0. */
  warmupSteps?: number;
  /** AdamW decoupled weight decay. Default 0.1. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Clip gradients to this global norm; 0 is off. Default 0 (the book does not clip). */
  gradClip?: number;
  /** Dropout while training. Default 0 (the book fine-tunes with drop_rate 0.0). */
  dropout?: number;
  /** Share of the records (after the training and test parts) that validates. Default 0.05. */
  valFraction?: number;
  /** Share of the records that tests (generated responses, test loss). Default 0.1. */
  testFraction?: number;
  /** Validation and training loss every N steps (and at the end); 0 turns it off. Default 5. */
  evalEvery?: number;
  /** Batches each of those losses averages (the first ones, in file order); 0 for all. Default 5. */
  evalBatches?: number;
  /** Checkpoint every N steps (always at the end and on cancel). Default 50. */
  checkpointEvery?: number;
  /** Step checkpoints kept; 0 keeps all. Default 2. */
  keepCheckpoints?: number;
  /** Seed of the data order, dropout, a preset's weights and the LoRA A matrices. Default 123. */
  seed?: number;
  /** After training, generate the test split's responses into test-responses.json. Default true. */
  responses?: boolean;
  /** Tokens each generated response may have. Default 256. */
  maxResponseTokens?: number;
  /** Train LoRA adapters instead of the weights (the base frozen). Default off. */
  lora?: LoraTrainOptions;
  /** Continue the run in outDir from its latest checkpoint. Default false. */
  resume?: boolean;
}

/** What run.json records: the loop's settings plus instruction fine-tuning's own. */
export interface ResolvedInstructOptions extends LoopOptions {
  /** The base's checkpoint folder (absolute), or undefined for a preset. */
  modelDir?: string;
  preset?: PresetName;
  promptStyle: PromptStyle;
  maskPrompt: boolean;
  epochs: number;
  dropout: number;
  valFraction: number;
  testFraction: number;
  evalBatches: number;
  responses: boolean;
  maxResponseTokens: number;
  lora?: ResolvedLoraOptions;
}

export const INSTRUCT_DEFAULTS = {
  promptStyle: 'alpaca',
  maskPrompt: false,
  epochs: 2,
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 5e-5,
  warmupSteps: 0,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  gradClip: 0,
  dropout: 0,
  valFraction: 0.05,
  testFraction: 0.1,
  evalEvery: 5,
  evalBatches: 5,
  checkpointEvery: 50,
  keepCheckpoints: 2,
  seed: 123,
  responses: true,
  maxResponseTokens: 256,
} as const;

/** Settings a resumed run may change; the others define the run and must match its run.json. */
export const INSTRUCT_RESUME_MUTABLE: readonly (keyof ResolvedInstructOptions)[] = [
  'epochs', 'steps', 'evalEvery', 'evalBatches', 'checkpointEvery', 'keepCheckpoints', 'responses', 'maxResponseTokens',
];

function bad(message: string): LlmLabError {
  return new LlmLabError('bad-argument', message);
}

function check(name: string, v: number, ok: (v: number) => boolean, want: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(`Training option ${name} must be ${want}, got ${v}.`);
}

const int = (v: number): boolean => Number.isInteger(v);

/**
 * Fills in defaults and checks every value. `steps` is left 0: it follows from the data (epochs × steps per epoch)
 * and is set once the records are split.
 */
export function resolveInstructOptions(o: Omit<InstructFinetuneOptions, 'outDir'>, modelDir: string | undefined): ResolvedInstructOptions {
  const d = INSTRUCT_DEFAULTS;
  if ((modelDir === undefined) === (o.preset === undefined)) throw bad('Give the base model as a model folder or a preset (exactly one of them).');
  if (o.preset !== undefined && !isPresetName(o.preset)) throw bad(`Unknown model preset '${String(o.preset)}'; use one of tiny, small, gpt2, gpt2-medium, gpt2-large, gpt2-xl.`);
  const lr = o.lr ?? d.lr;
  const r: ResolvedInstructOptions = {
    ...(modelDir !== undefined ? { modelDir } : { preset: o.preset }),
    promptStyle: promptStyleOf(o.promptStyle),
    maskPrompt: o.maskPrompt ?? d.maskPrompt,
    epochs: o.epochs ?? d.epochs,
    steps: 0,
    batchSize: o.batchSize ?? d.batchSize,
    gradAccumSteps: o.gradAccumSteps ?? d.gradAccumSteps,
    lr,
    minLr: o.minLr ?? lr,
    warmupSteps: o.warmupSteps ?? d.warmupSteps,
    weightDecay: o.weightDecay ?? d.weightDecay,
    beta1: o.beta1 ?? d.beta1,
    beta2: o.beta2 ?? d.beta2,
    eps: o.eps ?? d.eps,
    gradClip: o.gradClip ?? d.gradClip,
    dropout: o.dropout ?? d.dropout,
    valFraction: o.valFraction ?? d.valFraction,
    testFraction: o.testFraction ?? d.testFraction,
    evalEvery: o.evalEvery ?? d.evalEvery,
    evalBatches: o.evalBatches ?? d.evalBatches,
    checkpointEvery: o.checkpointEvery ?? d.checkpointEvery,
    keepCheckpoints: o.keepCheckpoints ?? d.keepCheckpoints,
    seed: o.seed ?? d.seed,
    responses: o.responses ?? d.responses,
    maxResponseTokens: o.maxResponseTokens ?? d.maxResponseTokens,
    ...(o.lora ? { lora: resolveLoraOptions(o.lora) } : {}),
  };
  check('epochs', r.epochs, (v) => int(v) && v >= 1, 'a whole number ≥ 1');
  check('batchSize', r.batchSize, (v) => int(v) && v >= 1, 'a whole number ≥ 1');
  check('gradAccumSteps', r.gradAccumSteps, (v) => int(v) && v >= 1 && r.batchSize % v === 0, `a whole number that divides batchSize (${r.batchSize})`);
  check('lr', r.lr, (v) => v > 0 && v < 10, 'a positive number such as 5e-5');
  check('minLr', r.minLr, (v) => v >= 0 && v <= r.lr, `between 0 and lr (${r.lr})`);
  check('warmupSteps', r.warmupSteps, (v) => int(v) && v >= 0, 'a whole number ≥ 0');
  check('weightDecay', r.weightDecay, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('beta1', r.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('beta2', r.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('eps', r.eps, (v) => v > 0, 'positive');
  check('gradClip', r.gradClip, (v) => v >= 0, '≥ 0 (0 turns clipping off)');
  check('dropout', r.dropout, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('valFraction', r.valFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('testFraction', r.testFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  if (r.valFraction + r.testFraction >= 1) throw bad(`Training options valFraction (${r.valFraction}) and testFraction (${r.testFraction}) leave nothing to train on; keep their sum below 1.`);
  check('maxResponseTokens', r.maxResponseTokens, (v) => int(v) && v >= 1, 'a whole number ≥ 1');
  for (const k of ['evalEvery', 'evalBatches', 'checkpointEvery', 'keepCheckpoints', 'seed'] as const) {
    check(k, r[k], (v) => int(v) && v >= 0, 'a whole number ≥ 0');
  }
  return r;
}

/** The training share of the split (what the validation and test shares leave), rounded off float noise. */
export function trainFraction(o: Pick<ResolvedInstructOptions, 'valFraction' | 'testFraction'>): number {
  return Math.round((1 - o.valFraction - o.testFraction) * 1e9) / 1e9;
}
