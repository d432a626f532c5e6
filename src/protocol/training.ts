// What a training run reports and the states it goes through, declared once. Core's training loop emits
// these events (and writes them to metrics.jsonl), the worker forwards them, the extension and the panel
// draw them; each side takes its types from the checkers here.
import type { Infer } from './validate';
import { arr, bool, int, literal, num, obj, opt, record, str, tagged } from './validate';

/** How a run ended: its steps done, stopped by the user, a NaN/Inf loss, the worker process died, or an error. */
export const RUN_ENDINGS = ['completed', 'cancelled', 'diverged', 'crashed', 'failed'] as const;
export type RunEnding = (typeof RUN_ENDINGS)[number];

/** A run as the panel shows it: none yet, going, asked to stop, or ended. */
export const RUN_STATES = ['idle', 'running', 'stopping', ...RUN_ENDINGS] as const;
export type RunState = (typeof RUN_STATES)[number];

/** The endings the training loop itself reports; a crash or an error ends the job around it. */
export const LOOP_ENDINGS = ['completed', 'cancelled', 'diverged'] as const satisfies readonly RunEnding[];

const count = int({ min: 0 });
/** A loss may be NaN or infinite when a run diverges: it is reported, not dropped. */
const loss = num({ allowNonFinite: true });

/** Fields of one optimizer step. */
export const stepFields = {
  step: count,
  totalSteps: count,
  /** Mean training loss of this step's batch. */
  loss,
  lr: num({ min: 0 }),
  /** Global gradient norm before clipping. */
  gradNorm: loss,
  tokensSeen: count,
  /** Training throughput of this session (tokens per second of step time). */
  tokensPerSec: num({ min: 0 }),
  /** Training time of the whole run so far, across resumes. */
  elapsedMs: num({ min: 0 }),
};

/** Fields of one validation pass. */
export const evalFields = {
  step: count,
  valLoss: loss,
  bestValLoss: loss,
  /** A task's other measures at this step, e.g. { valAccuracy, trainLoss, trainAccuracy }. */
  metrics: opt(record(loss)),
};

/** Each event core's training loop emits, by type. */
export const trainEventShapes = {
  start: obj({
    /** Steps already done (non-zero when resumed). */
    step: count,
    totalSteps: count,
    resumed: bool,
    parameters: count,
    /** Parameters that train (the rest are frozen); absent in runs made before tasks could freeze any. */
    trainableParameters: opt(count),
    /** The task: 'pretrain', 'classify', … (absent: 'pretrain'). */
    task: opt(str),
    trainTokens: count,
    valTokens: count,
    /** Training rows (windows of a corpus, or examples of a fine-tuning set) and optimizer steps per pass over them. */
    trainWindows: count,
    stepsPerEpoch: num({ min: 0 }),
  }),
  step: obj(stepFields),
  eval: obj(evalFields),
  sample: obj({ step: count, prompt: str, text: str }),
  checkpoint: obj({ step: count, dir: str }),
  /** A task's measures on its held-out test split at the end of the run, e.g. { loss, accuracy }. */
  test: obj({
    step: count,
    metrics: record(loss),
    /** Classification: counts[i][j] = test rows of class labels[i] predicted as labels[j]. */
    confusion: opt(obj({ labels: arr(str), counts: arr(arr(count)) })),
  }),
  /** Generating the test split's responses after training (instruction fine-tuning): `done` of `total`; `file` once written. */
  responses: obj({ step: count, done: count, total: count, file: opt(str) }),
  done: obj({ step: count, status: literal(...LOOP_ENDINGS) }),
};

export const trainEvent = tagged('type', trainEventShapes);
export type TrainEvent = Infer<typeof trainEvent>;
export type TrainEventOf<T extends TrainEvent['type']> = Extract<TrainEvent, { type: T }>;
