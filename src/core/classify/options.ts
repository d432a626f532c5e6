// Options of a classification fine-tuning run, their defaults (the book's chapter 6 recipe: AdamW at a constant
// 5e-5 with weight decay 0.1, 5 epochs of batch 8, the last block + final norm + a new head trained, a 70/10/20
// split) and their checks, and the rule saying which of them a resumed run may change.
import { LlmLabError } from '../errors';
import type { LoraTrainOptions, ResolvedLoraOptions } from '../lora/training';
import { resolveLoraOptions } from '../lora/training';
import type { GptConfig, PresetName } from '../model/config';
import { isPresetName } from '../model/config';
import type { RunOptionsRule } from '../train/runFolder';
import type { FinetuneLoopOptions, ResolvedFinetuneLoop } from '../train/loopOptions';
import { checkCounts, checkOption, FINETUNE_LOOP_DEFAULTS, FINETUNE_LOOP_RESUME_MUTABLE, isWhole, resolveFinetuneLoop } from '../train/loopOptions';
import type { TrainableChoice } from './model';
import { isTrainableChoice } from './model';
import type { DataFormat } from './records';
import { DATA_FORMATS } from './records';

/** The options of a classification run: the loop's (defaults in CLASSIFY_DEFAULTS) and the task's own. */
export interface ClassifyOptions extends FinetuneLoopOptions {
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
  /** Cap of the padded length in tokens. Default the model's context length. Texts are cut to it. */
  maxLength?: number;
  /** Undersample every class to the size of the smallest (seeded). Default false. */
  balance?: boolean;
  /** Training batches (the first N of the training split, fixed) for the training loss and accuracy; 0 for all. Default 5. */
  trainEvalBatches?: number;
  /** Data file size cap in bytes. Default 2 MB (as training corpora). */
  maxFileBytes?: number;
}

/** The options with defaults filled in, as run.json records them. */
export interface ResolvedClassifyOptions extends ResolvedFinetuneLoop {
  dataFile: string;
  format: DataFormat | 'auto';
  textField: string | null;
  labelField: string | null;
  modelDir: string | null;
  preset: PresetName | null;
  /** The classifier body's shape (its head is always the class head: tiedHead true). */
  model: GptConfig;
  trainable: TrainableChoice;
  maxLength: number;
  balance: boolean;
  trainEvalBatches: number;
  /** Class names in head order (from the data). */
  labels: string[];
  /** LoRA adapters train instead of `trainable`'s parameters. */
  lora?: ResolvedLoraOptions;
}

/** The book's chapter 6 recipe (the loop's common defaults, 5 epochs, a 70/10/20 split). */
export const CLASSIFY_DEFAULTS = {
  ...FINETUNE_LOOP_DEFAULTS,
  trainable: 'last-block',
  epochs: 5,
  balance: false,
  valFraction: 0.1,
  testFraction: 0.2,
  evalEvery: 50,
  evalBatches: 0,
  trainEvalBatches: 5,
  checkpointEvery: 100,
} as const;

/** Settings a resumed run may change. */
export const CLASSIFY_RESUME_MUTABLE: readonly (keyof ResolvedClassifyOptions)[] = [...FINETUNE_LOOP_RESUME_MUTABLE, 'trainEvalBatches'];

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
  const r: ResolvedClassifyOptions = {
    dataFile,
    format: o.format ?? 'auto',
    textField: o.textField ?? null,
    labelField: o.labelField ?? null,
    modelDir: o.modelDir ?? null,
    preset: o.preset ?? null,
    model,
    trainable,
    ...resolveFinetuneLoop(o, d),
    maxLength: o.maxLength ?? model.contextLength,
    balance: o.balance ?? d.balance,
    trainEvalBatches: o.trainEvalBatches ?? d.trainEvalBatches,
    labels: [],
    ...(o.lora ? { lora: resolveLoraOptions(o.lora) } : {}),
  };
  checkOption('maxLength', r.maxLength, (v) => isWhole(v) && v >= 1 && v <= model.contextLength, `a whole number from 1 to the model's context length (${model.contextLength})`);
  checkCounts(r, ['trainEvalBatches']);
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
