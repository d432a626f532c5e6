// The training loop's settings as a user gives them, declared and checked once. Every fine-tuning task's
// options extend FinetuneLoopOptions (epochs, batch, AdamW, schedule, clipping, the held-out splits, evaluation,
// checkpoints, seed, resume) and resolve them with resolveFinetuneLoop and the task's own recipe of defaults;
// pretraining's options extend TrainLoopOptions and check them with the same checkLoopOptions, so a setting is
// documented once and a bad value reads the same everywhere.
import { LlmLabError } from '../errors';
import type { LoopOptions } from './trainer';

/**
 * The loop settings every training run takes, pretraining and each fine-tuning task alike. Where the defaults
 * differ, the task's recipe gives them (PRETRAIN_DEFAULTS, CLASSIFY_DEFAULTS, INSTRUCT_DEFAULTS).
 */
export interface TrainLoopOptions {
  /** Run folder: run.json, metrics.jsonl and checkpoints/ go here (a task may add its own files). Required to train. */
  outDir: string;
  /** Sequences, examples or records per optimizer step. Default 8. */
  batchSize?: number;
  /** Micro-batches each step's batch is split into, to save memory; must divide batchSize. Default 1. */
  gradAccumSteps?: number;
  /** AdamW learning rate (the peak after warmup). Default 3e-3 pretraining, 5e-5 fine-tuning. */
  lr?: number;
  /** Learning rate the cosine decay ends at. Default lr / 10 pretraining, lr fine-tuning (a constant rate, as the book). */
  minLr?: number;
  /** Steps of linear warmup from 0. Default 50 pretraining (or a tenth of `steps` when that is less, so a short run still decays), 0 fine-tuning. */
  warmupSteps?: number;
  /** AdamW decoupled weight decay (matrices and embeddings only). Default 0.1. */
  weightDecay?: number;
  /** AdamW β1. Default 0.9. */
  beta1?: number;
  /** AdamW β2. Default 0.999 (PyTorch's). */
  beta2?: number;
  /** AdamW ε. Default 1e-8. */
  eps?: number;
  /** Clip gradients to this global L2 norm; 0 turns clipping off. Default 1.0 pretraining, 0 fine-tuning (the book does not clip). */
  gradClip?: number;
  /** Share of the data held out for validation (pretraining: the end of the tokens); 0 for none. Default 0.1 pretraining, the task's otherwise. */
  valFraction?: number;
  /** Held-out evaluation every N steps (and at the end); 0 turns it off. Default 50 pretraining, the task's otherwise. */
  evalEvery?: number;
  /** Batches each evaluation averages (the first ones, always the same); 0 for all. Default 0 pretraining, the task's otherwise. */
  evalBatches?: number;
  /** Checkpoint every N steps; one is always saved at the end and on cancel. 0: only those. Default 100 pretraining, the task's otherwise. */
  checkpointEvery?: number;
  /** Most recent step checkpoints kept in the run folder; 0 keeps all. Default 2. */
  keepCheckpoints?: number;
  /** Seed of the initial weights, the data order and dropout (a task may seed more with it). Default 123. */
  seed?: number;
  /** Continue the run in outDir from its latest checkpoint. Default false. */
  resume?: boolean;
}

/** The loop settings of a fine-tuning run: an epoch count instead of steps, and a test split. */
export interface FinetuneLoopOptions extends TrainLoopOptions {
  /** Passes over the training rows; steps = epochs × floor(training rows / batchSize). Default: the task's. */
  epochs?: number;
  /** Share of the rows held out for the test after training; valFraction + testFraction must stay below 1. Default: the task's. */
  testFraction?: number;
}

/** The loop settings a fine-tuning run records: the loop's own plus epochs, the splits and evaluation's size. */
export interface ResolvedFinetuneLoop extends LoopOptions {
  epochs: number;
  valFraction: number;
  testFraction: number;
  evalBatches: number;
}

/** A task's recipe: a default for every loop setting (minLr follows lr). */
export type FinetuneLoopDefaults = Readonly<Omit<ResolvedFinetuneLoop, 'steps' | 'minLr'>>;

/** The defaults fine-tuning tasks share (the book's chapters 6 and 7): AdamW at 5e-5, weight decay 0.1, batch 8, no warmup, no clipping. */
export const FINETUNE_LOOP_DEFAULTS = {
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 5e-5,
  warmupSteps: 0,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  gradClip: 0,
  keepCheckpoints: 2,
  seed: 123,
} as const;

/** The loop settings a resumed fine-tuning run may change; a task adds its own (e.g. what it measures). */
export const FINETUNE_LOOP_RESUME_MUTABLE = ['epochs', 'steps', 'evalEvery', 'evalBatches', 'checkpointEvery', 'keepCheckpoints'] as const;

/** Throws the error every training option gives when its value is not what it must be. */
export function checkOption(name: string, v: number, ok: (v: number) => boolean, want: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new LlmLabError('bad-argument', `Training option ${name} must be ${want}, got ${v}.`);
}

export const isWhole = (v: number): boolean => Number.isInteger(v);

/** Checks a whole number ≥ 0 for each of `names` (counts and periods where 0 means none, all or off). */
export function checkCounts<O extends object>(o: O, names: readonly (keyof O & string)[]): void {
  for (const k of names) checkOption(k, o[k] as number, (v) => isWhole(v) && v >= 0, 'a whole number ≥ 0');
}

/** The loop settings whose default is a plain value of the task's recipe (the schedule's follow from other settings). */
const PLAIN_DEFAULTS = [
  'batchSize', 'gradAccumSteps', 'weightDecay', 'beta1', 'beta2', 'eps', 'gradClip', 'valFraction', 'evalEvery', 'evalBatches',
  'checkpointEvery', 'keepCheckpoints', 'seed',
] as const;
type PlainDefaults = Record<(typeof PLAIN_DEFAULTS)[number], number>;

/** Those settings of `o`, each taken from the recipe `d` where `o` leaves it out. */
export function withLoopDefaults(o: Omit<TrainLoopOptions, 'outDir'>, d: Readonly<PlainDefaults>): PlainDefaults {
  const r = {} as PlainDefaults;
  for (const k of PLAIN_DEFAULTS) r[k] = o[k] ?? d[k];
  return r;
}

/**
 * Checks the loop settings every training run has (all but steps, which a fine-tuning run learns from its data).
 * `lrExample` is the recipe's learning rate, shown as an example of a good one.
 */
export function checkLoopOptions(r: LoopOptions & { valFraction: number; evalBatches: number }, lrExample: number): void {
  checkOption('batchSize', r.batchSize, (v) => isWhole(v) && v >= 1, 'a whole number ≥ 1');
  checkOption('gradAccumSteps', r.gradAccumSteps, (v) => isWhole(v) && v >= 1 && r.batchSize % v === 0, `a whole number that divides batchSize (${r.batchSize})`);
  checkOption('lr', r.lr, (v) => v > 0 && v < 10, `a positive number such as ${lrExample.toExponential()}`);
  checkOption('minLr', r.minLr, (v) => v >= 0 && v <= r.lr, `between 0 and lr (${r.lr})`);
  checkOption('warmupSteps', r.warmupSteps, (v) => isWhole(v) && v >= 0, 'a whole number ≥ 0');
  checkOption('weightDecay', r.weightDecay, (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkOption('beta1', r.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkOption('beta2', r.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkOption('eps', r.eps, (v) => v > 0, 'positive');
  checkOption('gradClip', r.gradClip, (v) => v >= 0, '≥ 0 (0 turns clipping off)');
  checkOption('valFraction', r.valFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  checkCounts(r, ['evalEvery', 'evalBatches', 'checkpointEvery', 'keepCheckpoints', 'seed']);
}

/**
 * The loop settings with the task's defaults `d` filled in, checked. `steps` is left 0: it follows from the data
 * (epochs × steps per epoch) and is set once the rows are split.
 */
export function resolveFinetuneLoop(o: Omit<FinetuneLoopOptions, 'outDir'>, d: FinetuneLoopDefaults): ResolvedFinetuneLoop {
  const lr = o.lr ?? d.lr;
  const r: ResolvedFinetuneLoop = {
    epochs: o.epochs ?? d.epochs,
    steps: 0,
    ...withLoopDefaults(o, d),
    lr,
    minLr: o.minLr ?? lr,
    warmupSteps: o.warmupSteps ?? d.warmupSteps,
    testFraction: o.testFraction ?? d.testFraction,
  };
  checkOption('epochs', r.epochs, (v) => isWhole(v) && v >= 1, 'a whole number ≥ 1');
  checkLoopOptions(r, d.lr);
  checkOption('testFraction', r.testFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  if (r.valFraction + r.testFraction >= 1) {
    throw new LlmLabError('bad-argument', `Training options valFraction (${r.valFraction}) and testFraction (${r.testFraction}) leave nothing to train on; keep their sum below 1.`);
  }
  return r;
}
