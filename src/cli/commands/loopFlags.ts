// The training-loop flags (--batch, --lr, the schedule, the splits, evaluation, checkpoints, --seed; and for the
// fine-tuning commands --epochs and --resume): the options they give the library, the help of the fine-tuning
// ones declared once with the task's defaults, and the flag names put back into the library's error messages.
import type { FlagValues, OptionSpecs } from '../args';
import { bool, int, num } from '../args';
import { LlmLabError } from '../../core/errors';
import type { FinetuneLoopDefaults, FinetuneLoopOptions, TrainLoopOptions } from '../../core/train/loopOptions';

/** How a task words its loop flags' help. */
export interface LoopFlagWords {
  /** What a batch holds, plural: 'examples', 'records'. */
  rows: string;
  /** What each evaluation reports, e.g. 'Validation loss and accuracy'. */
  evaluation: string;
  /** What the seed draws, e.g. 'the data order, dropout and new weights'. */
  seeds: string;
}

/** The loop flags with their help, the defaults `d` being the task's recipe. */
export function loopFlagOptions(d: FinetuneLoopDefaults, w: LoopFlagWords): OptionSpecs {
  const rows = w.rows.charAt(0).toUpperCase() + w.rows.slice(1);
  return {
    resume: { type: 'boolean', help: 'Continue the run in --out from its last checkpoint.' },
    epochs: { type: 'string', value: 'N', help: `Passes over the training ${w.rows} (default ${d.epochs}).` },
    batch: { type: 'string', value: 'N', help: `${rows} per step (default ${d.batchSize}).` },
    'grad-accum': { type: 'string', value: 'N', help: `Split each batch into N micro-batches to save memory (default ${d.gradAccumSteps}).` },
    lr: { type: 'string', value: 'LR', help: `AdamW learning rate (default ${d.lr}).` },
    'min-lr': { type: 'string', value: 'LR', help: 'Learning rate at the end of a cosine decay (default: lr, constant).' },
    warmup: { type: 'string', value: 'N', help: `Warmup steps (default ${d.warmupSteps}).` },
    'weight-decay': { type: 'string', value: 'W', help: `AdamW weight decay (default ${d.weightDecay}).` },
    'grad-clip': { type: 'string', value: 'C', help: `Clip the gradient norm to C, 0 for off (default ${d.gradClip}).` },
    'val-fraction': { type: 'string', value: 'F', help: `Share of the ${w.rows} held out for validation (default ${d.valFraction}).` },
    'test-fraction': { type: 'string', value: 'F', help: `Share of the ${w.rows} held out for the test after training (default ${d.testFraction}).` },
    'eval-every': { type: 'string', value: 'N', help: `${w.evaluation} every N steps and at the end, 0 for off (default ${d.evalEvery}).` },
    'eval-batches': { type: 'string', value: 'N', help: `Batches each evaluation averages, 0 for all (default ${d.evalBatches}).` },
    'checkpoint-every': { type: 'string', value: 'N', help: `Checkpoint every N steps (default ${d.checkpointEvery}; always at the end).` },
    'keep-checkpoints': { type: 'string', value: 'N', help: `Step checkpoints to keep, 0 for all (default ${d.keepCheckpoints}).` },
    seed: { type: 'string', value: 'S', help: `Seed of ${w.seeds} (default ${d.seed}).` },
  };
}

/** The loop options of every training command's flags (only those given: the others keep the task's defaults or, on resume, the run's). */
export function trainLoopFromFlags(values: FlagValues): Omit<TrainLoopOptions, 'outDir' | 'evalBatches' | 'resume'> {
  const o: Omit<TrainLoopOptions, 'outDir' | 'evalBatches' | 'resume'> = {
    batchSize: int(values, 'batch', 1),
    gradAccumSteps: int(values, 'grad-accum', 1),
    lr: num(values, 'lr', 0, 10, true),
    minLr: num(values, 'min-lr', 0, 10),
    warmupSteps: int(values, 'warmup', 0),
    weightDecay: num(values, 'weight-decay', 0, 1),
    gradClip: num(values, 'grad-clip', 0, Infinity),
    valFraction: num(values, 'val-fraction', 0, 0.99),
    evalEvery: int(values, 'eval-every', 0),
    checkpointEvery: int(values, 'checkpoint-every', 0),
    keepCheckpoints: int(values, 'keep-checkpoints', 0),
    seed: int(values, 'seed', 0),
  };
  return given(o);
}

/** The loop options of a fine-tuning command's flags: the training ones, the epochs, the test split, evaluation's size and --resume. */
export function loopFromFlags(values: FlagValues): Omit<FinetuneLoopOptions, 'outDir'> {
  return given({
    epochs: int(values, 'epochs', 1),
    ...trainLoopFromFlags(values),
    testFraction: num(values, 'test-fraction', 0, 0.99),
    evalBatches: int(values, 'eval-batches', 0),
    resume: bool(values, 'resume') ? true : undefined,
  });
}

/** `o` without its undefined fields. */
function given<O extends object>(o: O): O {
  for (const k of Object.keys(o) as (keyof O)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The flag of each training option and model setting, so a library error names what the user typed. */
const FLAG_OF: Record<string, string> = {
  preset: '--preset', contextLength: '--context', nLayers: '--layers', nHeads: '--heads', embDim: '--width', steps: '--steps',
  batchSize: '--batch', gradAccumSteps: '--grad-accum', lr: '--lr', minLr: '--min-lr', warmupSteps: '--warmup',
  weightDecay: '--weight-decay', gradClip: '--grad-clip', valFraction: '--val-fraction', evalEvery: '--eval-every',
  sampleEvery: '--sample-every', samplePrompt: '--sample-prompt', checkpointEvery: '--checkpoint-every',
  keepCheckpoints: '--keep-checkpoints', seed: '--seed', fimRate: '--fim-rate', fimSpmRate: '--fim-spm-rate',
};
/** Option names that are also plain words ("steps", "seed"): replaced only where a message names an option. */
const PLAIN_WORDS = new Set(['steps', 'seed', 'preset']);

/** The same error with the library's option names (batchSize, embDim) replaced by the flags that set them. */
export function withFlagNames(e: unknown): unknown {
  if (!(e instanceof LlmLabError) || e.code !== 'bad-argument') return e;
  let m = e.message.replace(/\b(?:Training option|Model setting) (\w+)/g, (all, name: string) => FLAG_OF[name] ?? all);
  m = m.replace(/(?<![-\w])\w+\b/g, (w) => (FLAG_OF[w] && !PLAIN_WORDS.has(w) ? FLAG_OF[w] : w));
  m = m.replace(/(?<![-\w])(steps|seed|preset) \(run: /g, (_all, name: string) => `${FLAG_OF[name]} (run: `);
  return m === e.message ? e : new LlmLabError(e.code, m);
}

/** The library's loop option names → the flags that set them. */
const LOOP_FLAG_OF: Readonly<Record<string, string>> = {
  epochs: '--epochs', batchSize: '--batch', gradAccumSteps: '--grad-accum', lr: '--lr', minLr: '--min-lr', warmupSteps: '--warmup',
  weightDecay: '--weight-decay', gradClip: '--grad-clip', valFraction: '--val-fraction', testFraction: '--test-fraction',
  evalEvery: '--eval-every', evalBatches: '--eval-batches', checkpointEvery: '--checkpoint-every', keepCheckpoints: '--keep-checkpoints',
};

/**
 * The same error with the library's option names replaced by the flags that set them: the loop's, and the
 * task's own `taskFlags` (option name → flag), where a message names an option.
 */
export function finetuneFlagNames(e: unknown, taskFlags: Readonly<Record<string, string>>): unknown {
  const named = withFlagNames(e);
  if (!(named instanceof LlmLabError) || named.code !== 'bad-argument') return named;
  const flags: Record<string, string> = { ...LOOP_FLAG_OF, ...taskFlags };
  const m = named.message
    .replace(/(?<![-\w])(?:Training option )?(\w+)(?= \(| must| and )/g, (all, w: string) => (Object.hasOwn(flags, w) ? flags[w] : all))
    .replace(/\bTraining options? (?=--)/g, '');
  return m === named.message ? named : new LlmLabError(named.code, m);
}
