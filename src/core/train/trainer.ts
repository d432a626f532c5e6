// The one training loop of LLM Lab. Pretraining and every fine-tuning task run through it; a task supplies its
// batches, its loss (and any metrics), which parameters train and how its model is written. The loop does the
// rest: AdamW on the trained parameters only, linear warmup + cosine decay, gradient accumulation and clipping,
// periodic evaluation, checkpoints, exact resume, cancel, the divergence stop, events and metrics.jsonl.
// Seeded and deterministic: a run stopped at step k and resumed gives exactly the losses of an uninterrupted
// run, because the trained weights, the AdamW moments and the batch source's state are saved, and each step's
// dropout seed is a function of (seed, step). A frozen parameter gets no gradient and no optimizer state.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { loadTrainingState, saveTrainingCheckpoint } from '../checkpoint/trainingState';
import { tf } from '../engine';
import { LlmLabError } from '../errors';
import type { TrainEvent } from './events';
import { METRICS_FILE, MetricsLog } from './events';
import { AdamW } from './optimizer';
import { LossTrend } from './divergence';
import { RUN_FORMAT_VERSION, writeRunRecord } from './runFolder';
import type { RunKind } from './runFolder';
import type { RunLock } from './runLock';
import { heldLock, lockRunFolder } from './runLock';
import { learningRateAt } from './schedule';
import { accumulateGradients, clipGradients, dropoutSeed } from './step';

/** The loop's settings (a task's resolved options carry them; see PretrainOptions for meanings and defaults). */
export interface LoopOptions {
  steps: number;
  batchSize: number;
  gradAccumSteps: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  gradClip: number;
  evalEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  seed: number;
}

/** A seeded source of training batches whose position is saved with each checkpoint. */
export interface BatchSource<B> {
  next(): B;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What a held-out evaluation measured. */
export interface Evaluation {
  valLoss: number;
  /** Other measures, e.g. { valAccuracy, trainLoss, trainAccuracy }. */
  metrics?: Record<string, number>;
}

/** A training task: what the loop trains and on what. */
export interface TrainingTask<B> {
  /** Every variable a checkpoint holds and a resume restores, by name (model body, head, adapters). */
  readonly params: Map<string, tf.Variable>;
  /** Names in `params` that train. The others are frozen: no gradient is computed for them, no AdamW state kept. */
  readonly trainable: ReadonlySet<string>;
  /** Batches of `batchSize` rows. */
  readonly batches: BatchSource<B>;
  /** Identifies the training data; a resume with other data is refused. */
  readonly dataFingerprint: string;
  /** Sizes reported in the start event. */
  readonly dataSizes: { trainTokens: number; valTokens: number; trainWindows: number; stepsPerEpoch: number };
  /** Total parameters of the model (reported in the start event). */
  readonly parameters: number;
  /** Tokens one optimizer step consumes (for throughput). */
  readonly tokensPerStep: number;
  /**
   * Mean loss of rows [from, from+rows) of `batch`, built inside the gradient tape (tensors it makes are freed
   * after the step); `seed` is the micro-batch's dropout seed.
   */
  loss(batch: B, from: number, rows: number, seed: number): tf.Scalar;
  /** Held-out evaluation (every evalEvery steps and at the end); undefined when the task has none. */
  evaluate?(signal?: AbortSignal): Promise<Evaluation | undefined>;
  /** Called after each step's events (e.g. a text sample every N steps). */
  afterStep?(step: number, last: boolean, emit: (e: TrainEvent) => void): Promise<void>;
  /**
   * Called once the last step is done and saved, not on cancel (e.g. test-split metrics). Returns 'cancelled' when
   * the signal stopped it part-way (the run then ends 'cancelled', and a resume calls it again).
   */
  finish?(step: number, emit: (e: TrainEvent) => void, signal?: AbortSignal): void | 'cancelled' | Promise<void | 'cancelled'>;
  /** Writes the model's files (config.json, model.safetensors) into a checkpoint folder. */
  writeModel(dir: string, step: number): Promise<void>;
}

/** Where a run lives and how it starts (see planRunStart). */
export interface RunPlace<O> {
  outDir: string;
  kind: RunKind;
  /** The resolved options, recorded in run.json and in each checkpoint's training_state.json. */
  options: O;
  /** Resume from this step folder: the caller has already loaded its weights into the task's params. */
  resumeFrom?: { step: number; dir: string };
  /** createdAt of an existing run record. */
  createdAt?: string;
  /** The folder's lock from planRunStart; when left out, the lock this process holds on outDir, else taken here. */
  lock?: RunLock;
}

export interface TrainHooks {
  /** Stops the run at the next step boundary; a checkpoint is saved and the result says 'cancelled'. */
  signal?: AbortSignal;
  /** Every event, as it happens (also appended to <out>/metrics.jsonl). */
  onEvent?: (e: TrainEvent) => void;
}

export interface TrainResult {
  status: 'completed' | 'cancelled';
  outDir: string;
  /** Optimizer steps done in total. */
  step: number;
  totalSteps: number;
  /** Training loss of the last step run in this call (undefined when none ran). */
  lastLoss?: number;
  lastValLoss?: number;
  bestValLoss?: number;
  tokensSeen: number;
  /** Training time of the whole run, across resumes. */
  elapsedMs: number;
  /** The latest checkpoint folder (undefined when none was ever saved). */
  checkpointDir?: string;
}

/** State saved in training_state.json beside each checkpoint. */
interface SavedState<O> {
  step: number;
  tokensSeen: number;
  elapsedMs: number;
  sampler: unknown;
  bestValLoss?: number;
  lastValLoss?: number;
  dataFingerprint: string;
  options: O;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Refuses to train where TensorFlow.js has no gradients registered. */
export function requireGradients(): void {
  if (!tf.getGradient('Sum')) {
    throw new LlmLabError(
      'backend',
      `TensorFlow.js gradients are not registered on the ${tf.getBackend()} backend, so nothing can be trained; reinstall LLM Lab (npm install builds them), then try again.`,
    );
  }
}

/** The trained subset of a task's parameters, checked. */
function trainedParams<B>(task: TrainingTask<B>): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const name of task.trainable) {
    const v = task.params.get(name);
    if (!v) throw new LlmLabError('bad-argument', `The task trains '${name}', which the model does not have.`);
    out.set(name, v);
  }
  if (out.size === 0) throw new LlmLabError('bad-argument', 'Nothing would train: the task marks no parameter trainable.');
  return out;
}

/**
 * Trains `task` in `place.outDir` with the loop settings `o`. Resolves when the run reaches `o.steps` or is
 * cancelled; rejects with an LlmLabError for a checkpoint that cannot be resumed or a diverged run. The caller
 * owns the task's variables (and disposes them); the optimizer is made and freed here.
 */
export async function runTraining<B, O extends object>(task: TrainingTask<B>, o: LoopOptions, place: RunPlace<O>, hooks: TrainHooks = {}): Promise<TrainResult> {
  const outDir = place.outDir;
  const trained = trainedParams(task);
  // One process at a time writes a run folder; the lock is released however the run ends.
  const lock = place.lock ?? heldLock(outDir) ?? (await lockRunFolder(outDir));
  const optimizer = new AdamW({ params: trained }, o);
  let step = 0;
  let tokensSeen = 0;
  let elapsedMs = 0;
  let bestValLoss: number | undefined;
  let lastValLoss: number | undefined;
  let checkpointDir: string | undefined;
  try {
    if (place.resumeFrom) {
      const { state, optimizerTensors } = await loadTrainingState(place.resumeFrom.dir);
      const s = state as unknown as SavedState<O>;
      if (typeof s.sampler !== 'object' || s.sampler === null || typeof s.tokensSeen !== 'number') {
        throw new LlmLabError(
          'bad-checkpoint',
          `${path.join(place.resumeFrom.dir, 'training_state.json')} lacks the data position; resume from an earlier checkpoint or start a new run.`,
        );
      }
      if (s.dataFingerprint !== task.dataFingerprint) {
        throw new LlmLabError(
          'bad-argument',
          `The training data (${task.dataFingerprint}) is not the data run ${outDir} was started with (${s.dataFingerprint}); resume with the same data or start a new run.`,
        );
      }
      optimizer.loadState(optimizerTensors, place.resumeFrom.dir);
      task.batches.setState(s.sampler);
      ({ step, tokensSeen, elapsedMs, bestValLoss, lastValLoss } = s);
      checkpointDir = place.resumeFrom.dir;
    } else {
      await fsp.mkdir(outDir, { recursive: true });
      // Appended to, never truncated: a fresh start finds no metrics.jsonl (planRunStart), and a run that starts
      // again from step 0 keeps the record of its first attempt.
      await fsp.appendFile(path.join(outDir, METRICS_FILE), '');
    }
    const now = new Date().toISOString();
    await writeRunRecord(outDir, {
      formatVersion: RUN_FORMAT_VERSION,
      kind: place.kind,
      options: place.options,
      dataFingerprint: task.dataFingerprint,
      backend: tf.getBackend(),
      createdAt: place.createdAt ?? now,
      updatedAt: now,
    });
    return await loop();
  } finally {
    optimizer.dispose();
    await lock.release();
  }

  async function loop(): Promise<TrainResult> {
    const log = MetricsLog.inRun(outDir);
    const emit = (e: TrainEvent): void => {
      log.write(e);
      hooks.onEvent?.(e);
    };
    let savedStep = place.resumeFrom?.step ?? -1;
    let sessionTokens = 0;
    let sessionMs = 0;
    let lastLoss: number | undefined;
    const trend = new LossTrend();

    const save = async (): Promise<void> => {
      const state: SavedState<O> = {
        step, tokensSeen, elapsedMs, sampler: task.batches.getState(), bestValLoss, lastValLoss, dataFingerprint: task.dataFingerprint, options: place.options,
      };
      const at = step;
      checkpointDir = await saveTrainingCheckpoint(outDir, {
        step, writeModel: (dir) => task.writeModel(dir, at), optimizerTensors: optimizer.stateTensors(), state: state as unknown as Record<string, unknown>, keepLast: o.keepCheckpoints,
        // Pruning keeps the best checkpoint by validation loss (by recent training loss without validation).
        score: lastValLoss ?? trend.median(),
      });
      savedStep = step;
      emit({ type: 'checkpoint', step, dir: checkpointDir });
    };

    let trainableParameters = 0;
    for (const v of trained.values()) trainableParameters += v.size;
    emit({
      type: 'start', step, totalSteps: o.steps, resumed: place.resumeFrom !== undefined, parameters: task.parameters,
      trainableParameters, task: place.kind, ...task.dataSizes,
    });
    let status: TrainResult['status'] = 'completed';
    try {
      while (step < o.steps) {
        await nextTick(); // let an abort (from a timer, a message, a key press) arrive
        if (hooks.signal?.aborted) {
          status = 'cancelled';
          break;
        }
        const t0 = performance.now();
        const batch = task.batches.next();
        const lr = learningRateAt(step + 1, { lr: o.lr, minLr: o.minLr, warmupSteps: o.warmupSteps, totalSteps: o.steps });
        const { loss, grads } = await accumulateGradients(
          trained, o.batchSize, o.gradAccumSteps, (from, rows, seed) => task.loss(batch, from, rows, seed), (j) => dropoutSeed(o.seed, step + 1, j),
        );
        let gradNorm: number;
        try {
          gradNorm = Number.isFinite(loss) ? await clipGradients(grads, o.gradClip) : NaN;
          if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
            const kept = savedStep >= 0 ? `the checkpoint of step ${savedStep} is kept` : 'no checkpoint was saved yet';
            throw new LlmLabError(
              'diverged',
              `Training diverged at step ${step + 1}: the ${Number.isFinite(loss) ? 'gradient' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} ` +
                `(learning rate ${lr.toExponential(2)}); ${kept}. Try a lower learning rate (e.g. lr ${(o.lr / 3).toExponential(1)}), more warmup steps or gradient clipping.`,
            );
          }
          const blownUp = trend.add(loss);
          if (blownUp) {
            const kept = savedStep >= 0 ? `its checkpoints are kept (the latest at step ${savedStep})` : 'no checkpoint was saved yet';
            throw new LlmLabError(
              'diverged',
              `Training diverged at step ${step + 1}: the loss rose to ${blownUp.recent.toPrecision(4)} (the median of the last steps) from ${blownUp.lowest.toPrecision(4)} ` +
                `(learning rate ${lr.toExponential(2)}); ${kept}. Try a lower learning rate (e.g. lr ${(o.lr / 3).toExponential(1)}), more warmup steps or gradient clipping.`,
            );
          }
          optimizer.update(grads, lr, step + 1);
        } finally {
          tf.dispose([...grads.values()]);
        }
        step++;
        lastLoss = loss;
        const dt = performance.now() - t0;
        tokensSeen += task.tokensPerStep;
        sessionTokens += task.tokensPerStep;
        sessionMs += dt;
        elapsedMs += dt;
        emit({
          type: 'step', step, totalSteps: o.steps, loss, lr, gradNorm, tokensSeen,
          tokensPerSec: sessionMs > 0 ? (sessionTokens * 1000) / sessionMs : 0, elapsedMs,
        });
        const last = step === o.steps;
        if (task.evaluate && o.evalEvery > 0 && (step % o.evalEvery === 0 || last)) {
          const ev = await task.evaluate(hooks.signal);
          if (ev) {
            lastValLoss = ev.valLoss;
            bestValLoss = bestValLoss === undefined ? lastValLoss : Math.min(bestValLoss, lastValLoss);
            emit({ type: 'eval', step, valLoss: lastValLoss, bestValLoss, ...(ev.metrics ? { metrics: ev.metrics } : {}) });
          }
        }
        await task.afterStep?.(step, last, emit);
        if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && !last) await save();
      }
      if (step !== savedStep) await save();
      if (status === 'completed' && (await task.finish?.(step, emit, hooks.signal)) === 'cancelled') status = 'cancelled';
      emit({ type: 'done', step, status });
    } catch (e) {
      if (e instanceof LlmLabError && e.code === 'diverged') emit({ type: 'done', step, status: 'diverged' });
      throw e;
    } finally {
      await log.flush();
    }
    return { status, outDir, step, totalSteps: o.steps, lastLoss, lastValLoss, bestValLoss, tokensSeen, elapsedMs, checkpointDir };
  }
}
