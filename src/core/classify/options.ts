// Options of a classification fine-tuning run, their defaults (the book's chapter 6 recipe: AdamW at a constant
// 5e-5 with weight decay 0.1, 5 epochs of batch 8, the last block + final norm + a new head trained, a 70/10/20
// split) and their checks, and the rule saying which of them a resumed run may change.
import { LlmLabError } from '../errors';
import type { LoraTrainOptions, ResolvedLoraOptions } from '../lora/training';
import { resolveLoraOptions } from '../lora/training';
import type { GptConfig, PresetName } from '../model/config';
import { isPresetName } from '../model/config';
import type { RunOptionsRule } from '../train/runFolder';
import type { LoopOptions } from '../train/trainer';
import type { TrainableChoice } from './model';
import { isTrainableChoice } from './model';
import type { DataFormat } from './records';
import { DATA_FORMATS } from './records';

export interface ClassifyOptions {
  /** Run folder: run.json, metrics.jsonl and checkpoints/ go here. Required to train. */
  outDir: string;
  /** The labelled texts: TSV, CSV or JSONL (see records.ts). Only read. Required. */
  dataFile: string;
  /** Default: from the extension, else from the first line. */
  format?: DataFormat;
  /** Text column or JSONL key (a name, or a 1-based column number). Default 'text' (headerless: the non-label column). */
  textField?: string;
  /** Label column or JSONL key. Default 'label' (headerless two-column file: the column with fewer distinct values). */
  labelField?: string;
  /** The base model: a run folder, a model folder, a downloaded GPT-2 or any GPT-2 folder (a classifier's: its body). */
  modelDir?: string;
  /** Or fresh seeded weights of a preset (exactly one of modelDir and preset). */
  preset?: PresetName;
  /** Settings overriding the preset's (e.g. { contextLength: 128 }); with modelDir only dropRate. */
  model?: Partial<GptConfig>;
  /** What trains. Default 'last-block' (the last block, the final LayerNorm and the head). Not with lora. */
  trainable?: TrainableChoice;
  /**
   * Train LoRA adapters instead (the base frozen): rank, alpha (default the rank) and targets (default all: the
   * head then stays as made and gets an adapter; without 'head' among them the head trains whole). Default off.
   */
  lora?: LoraTrainOptions;
  /** Passes over the training rows. Default 5; steps = epochs × floor(training rows / batchSize). */
  epochs?: number;
  /** Examples per optimizer step. Default 8. */
  batchSize?: number;
  /** Micro-batches per step (divides batchSize). Default 1. */
  gradAccumSteps?: number;
  /** Learning rate. Default 5e-5. */
  lr?: number;
  /** Learning rate the cosine decay ends at. Default lr (a constant rate, as the book). */
  minLr?: number;
  /** Linear warmup steps. Default 0. */
  warmupSteps?: number;
  /** AdamW weight decay (matrices and embeddings). Default 0.1. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Global gradient-norm clip; 0 is off. Default 0 (the book does not clip). */
  gradClip?: number;
  /** Cap of the padded length in tokens. Default the model's context length. Texts are cut to it. */
  maxLength?: number;
  /** Undersample every class to the size of the smallest (seeded). Default false. */
  balance?: boolean;
  /** Fraction of the examples held out for validation. Default 0.1. */
  valFraction?: number;
  /** Fraction held out for the test at the end. Default 0.2. */
  testFraction?: number;
  /** Evaluate every N steps (and at the end); 0 only at the end. Default 50. */
  evalEvery?: number;
  /** Validation batches per evaluation; 0 for all. Default 0. */
  evalBatches?: number;
  /** Training batches (the first N of the training split, fixed) for the training loss and accuracy; 0 for all. Default 5. */
  trainEvalBatches?: number;
  /** Checkpoint every N steps (and at the end and on cancel). Default 100. */
  checkpointEvery?: number;
  /** Step checkpoints kept; 0 keeps all. Default 2. */
  keepCheckpoints?: number;
  /** Seed of the balancing, the split, the batch order, new weights and dropout. Default 123. */
  seed?: number;
  /** Continue the run in outDir from its latest checkpoint. Default false. */
  resume?: boolean;
  /** Data file size cap in bytes. Default 2 MB (as training corpora). */
  maxFileBytes?: number;
}

/** The options with defaults filled in, as run.json records them. */
export interface ResolvedClassifyOptions extends LoopOptions {
  dataFile: string;
  format: DataFormat | 'auto';
  textField: string | null;
  labelField: string | null;
  modelDir: string | null;
  preset: PresetName | null;
  /** The classifier body's shape (its head is always the class head: tiedHead true). */
  model: GptConfig;
  trainable: TrainableChoice;
  epochs: number;
  maxLength: number;
  balance: boolean;
  valFraction: number;
  testFraction: number;
  evalBatches: number;
  trainEvalBatches: number;
  /** Class names in head order (from the data). */
  labels: string[];
  /** LoRA adapters train instead of `trainable`'s parameters. */
  lora?: ResolvedLoraOptions;
}

export const CLASSIFY_DEFAULTS = {
  trainable: 'last-block',
  epochs: 5,
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 5e-5,
  warmupSteps: 0,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  gradClip: 0,
  balance: false,
  valFraction: 0.1,
  testFraction: 0.2,
  evalEvery: 50,
  evalBatches: 0,
  trainEvalBatches: 5,
  checkpointEvery: 100,
  keepCheckpoints: 2,
  seed: 123,
} as const;

/** Settings a resumed run may change. */
export const CLASSIFY_RESUME_MUTABLE: readonly (keyof ResolvedClassifyOptions)[] = [
  'epochs', 'steps', 'evalEvery', 'evalBatches', 'trainEvalBatches', 'checkpointEvery', 'keepCheckpoints',
];

function check(name: string, v: number, ok: (v: number) => boolean, want: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new LlmLabError('bad-argument', `Training option ${name} must be ${want}, got ${v}.`);
}
const int = (v: number): boolean => Number.isInteger(v);

/**
 * Fills in defaults and checks every value. `model` is the base's shape (from the preset or the model folder);
 * steps and labels come from the data (0 and [] until it is read).
 */
export function resolveClassifyOptions(o: Omit<ClassifyOptions, 'outDir'>, model: GptConfig, dataFile: string): ResolvedClassifyOptions {
  const d = CLASSIFY_DEFAULTS;
  if ((o.modelDir === undefined) === (o.preset === undefined)) {
    throw new LlmLabError('bad-argument', 'Give the base model as a model folder (modelDir) or a preset, exactly one of them.');
  }
  if (o.preset !== undefined && !isPresetName(o.preset)) throw new LlmLabError('bad-argument', `Unknown model preset '${String(o.preset)}'.`);
  if (o.lora !== undefined && o.trainable !== undefined) {
    throw new LlmLabError('bad-argument', `Choose what trains (trainable: ${o.trainable}) or LoRA adapters, not both: with LoRA the adapters train, and the head too unless it is adapted.`);
  }
  const trainable = o.trainable ?? d.trainable;
  if (!isTrainableChoice(trainable)) throw new LlmLabError('bad-argument', `Training option trainable must be head, last-block, last-N or all, got '${String(trainable)}'.`);
  if (o.format !== undefined && !DATA_FORMATS.includes(o.format)) throw new LlmLabError('bad-argument', `Data format must be one of ${DATA_FORMATS.join(', ')}, got '${String(o.format)}'.`);
  const lr = o.lr ?? d.lr;
  const r: ResolvedClassifyOptions = {
    dataFile,
    format: o.format ?? 'auto',
    textField: o.textField ?? null,
    labelField: o.labelField ?? null,
    modelDir: o.modelDir ?? null,
    preset: o.preset ?? null,
    model,
    trainable,
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
    maxLength: o.maxLength ?? model.contextLength,
    balance: o.balance ?? d.balance,
    valFraction: o.valFraction ?? d.valFraction,
    testFraction: o.testFraction ?? d.testFraction,
    evalEvery: o.evalEvery ?? d.evalEvery,
    evalBatches: o.evalBatches ?? d.evalBatches,
    trainEvalBatches: o.trainEvalBatches ?? d.trainEvalBatches,
    checkpointEvery: o.checkpointEvery ?? d.checkpointEvery,
    keepCheckpoints: o.keepCheckpoints ?? d.keepCheckpoints,
    seed: o.seed ?? d.seed,
    labels: [],
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
  check('maxLength', r.maxLength, (v) => int(v) && v >= 1 && v <= model.contextLength, `a whole number from 1 to the model's context length (${model.contextLength})`);
  check('valFraction', r.valFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('testFraction', r.testFraction, (v) => v >= 0 && v < 1 && v + r.valFraction < 1, `in [0, 1) with valFraction + testFraction below 1`);
  for (const k of ['evalEvery', 'evalBatches', 'trainEvalBatches', 'checkpointEvery', 'keepCheckpoints', 'seed'] as const) {
    check(k, r[k], (v) => int(v) && v >= 0, 'a whole number ≥ 0');
  }
  return r;
}

/** Which settings the caller gave (a resume keeps the run's value of the others) and which a resume may change. */
export function classifyRunRule(explicit: Omit<ClassifyOptions, 'outDir'>): RunOptionsRule<ResolvedClassifyOptions> {
  const raw = explicit as unknown as Record<string, unknown>;
  return {
    mutable: CLASSIFY_RESUME_MUTABLE,
    given: (key) => {
      if (key === 'steps') return explicit.epochs !== undefined;
      if (key === 'labels' || key === 'dataFile') return true;
      if (key === 'model' || key === 'modelDir' || key === 'preset') return explicit.modelDir !== undefined || explicit.preset !== undefined || explicit.model !== undefined;
      if (key === 'minLr') return explicit.minLr !== undefined || explicit.lr !== undefined;
      if (key === 'maxLength') return explicit.maxLength !== undefined || explicit.modelDir !== undefined || explicit.preset !== undefined;
      return raw[key] !== undefined;
    },
  };
}
