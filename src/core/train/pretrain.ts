// Pretraining: next-token prediction on a corpus with AdamW, warmup + cosine learning rate, gradient
// accumulation and clipping, periodic validation, samples and checkpoints, in a run folder (see runFolder.ts).
// Seeded and deterministic: a run stopped at step k and resumed gives exactly the losses of an uninterrupted
// run, because the weights, the AdamW moments and the sampler state are saved, and each step's dropout seed is
// a function of (seed, step). A NaN/Inf loss stops the run with LlmLabError('diverged') without saving the bad
// step. Cancelling (AbortSignal) stops at the next step boundary, saves a checkpoint and resolves with
// status 'cancelled'.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { loadModelFrom } from '../checkpoint/modelFiles';
import { loadTrainingState, saveTrainingCheckpoint } from '../checkpoint/trainingState';
import { engineInfo, tf } from '../engine';
import { LlmLabError } from '../errors';
import type { SamplerState } from '../data';
import { encodeCorpus } from '../data';
import { countParameters } from '../model/config';
import { GptModel } from '../model/gpt';
import type { Tokenizer } from '../tokenizer';
import { getTokenizer, tokenizerFromVocab } from '../tokenizer';
import type { BpeModel } from '../tokenizer/bpeModel';
import { TRAINED_TOKENIZER, vocabOfModel } from '../tokenizer/bpeModel';
import { isTokenizerFolder, loadBpeModel, modelText, writeTokenizerFiles } from '../tokenizer/files';
import type { RunData } from './data';
import { makeSampler, prepareData, toTokenArray } from './data';
import type { TrainEvent } from './events';
import { METRICS_FILE, MetricsLog } from './events';
import { greedyContinue, validationLoss } from './monitor';
import { AdamW } from './optimizer';
import type { PretrainOptions, ResolvedPretrainOptions } from './options';
import { resolvePretrainOptions } from './options';
import { RUN_FORMAT_VERSION, planRunStart, writeRunRecord } from './runFolder';
import { learningRateAt } from './schedule';
import { clipGradients, computeGradients, dropoutSeed } from './step';

export interface PretrainHooks {
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
interface SavedState {
  step: number;
  tokensSeen: number;
  elapsedMs: number;
  sampler: unknown;
  bestValLoss?: number;
  lastValLoss?: number;
  dataFingerprint: string;
  options: ResolvedPretrainOptions;
}

/** Where a run keeps its own copy of a trained tokenizer. */
export const RUN_TOKENIZER_DIR = 'tokenizer';

/** The run's tokenizer: a trained one (given, or the run folder's copy when resuming) or an encoding. */
async function runTokenizer(outDir: string, options: PretrainOptions): Promise<{ tokenizer: Tokenizer; bpe?: BpeModel }> {
  const kept = path.join(outDir, RUN_TOKENIZER_DIR);
  const keptBpe = options.resume && (await isTokenizerFolder(kept)) ? await loadBpeModel(kept) : undefined;
  let bpe = keptBpe;
  if (options.tokenizerDir !== undefined) {
    bpe = await loadBpeModel(path.resolve(options.tokenizerDir));
    if (keptBpe && modelText({ ...keptBpe, name: '' }) !== modelText({ ...bpe, name: '' })) {
      throw new LlmLabError('bad-argument', `${options.tokenizerDir} is not the tokenizer run ${outDir} was started with (${kept}); resume without --tokenizer, or start a new run.`);
    }
  }
  if (!bpe) return { tokenizer: getTokenizer(options.tokenizer ?? 'gpt2') };
  return { tokenizer: tokenizerFromVocab(vocabOfModel(bpe, path.join(options.tokenizerDir ?? kept, 'tokenizer.model'))), bpe };
}

async function tokensOf(opts: PretrainOptions, o: ResolvedPretrainOptions, tokenizer: Tokenizer, signal?: AbortSignal): Promise<Int32Array> {
  if ((opts.text === undefined) === (opts.tokens === undefined)) {
    throw new LlmLabError('bad-argument', 'Give the training data as either text or tokens (exactly one of them).');
  }
  if (opts.tokens !== undefined) return toTokenArray(opts.tokens, o.model.vocabSize);
  const text = opts.text ?? '';
  if (text.trim().length === 0) throw new LlmLabError('bad-data', 'The training text is empty; give a corpus with some text in it.');
  return toTokenArray(await encodeCorpus(text, tokenizer, { signal }), o.model.vocabSize);
}

/** The sample prompt's ids and a decoder; when the tokenizer does not fit the model, the first training tokens, shown as ids. */
function samplePlan(o: ResolvedPretrainOptions, data: RunData, tokenizer: Tokenizer): { prompt: number[]; label: string; decode: (ids: number[]) => string } {
  if (tokenizer.vocabSize <= o.model.vocabSize) {
    const prompt = tokenizer.encode(o.samplePrompt);
    if (prompt.length > 0 && prompt.length < o.model.contextLength) {
      return { prompt, label: o.samplePrompt, decode: (ids) => tokenizer.decode(ids) };
    }
  }
  const prompt = [...data.train.subarray(0, Math.min(4, o.model.contextLength - 1))];
  return { prompt, label: prompt.join(' '), decode: (ids) => ids.join(' ') };
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Pretrains a GPT model in `options.outDir` (see PretrainOptions for every setting and its default).
 * Resolves when the run reaches `steps` or is cancelled; rejects with an LlmLabError for bad options or
 * data, a run folder that cannot be used, or a diverged run.
 */
export async function pretrain(options: PretrainOptions, hooks: PretrainHooks = {}): Promise<TrainResult> {
  if (!options.outDir) throw new LlmLabError('bad-argument', 'Give an output folder (outDir) for the run.');
  if (!tf.getGradient('Sum')) {
    const why = engineInfo()?.gradientsMissing ?? 'initEngine was not called';
    throw new LlmLabError(
      'backend',
      `TensorFlow.js gradients are not registered on the ${tf.getBackend()} backend (${why}), so nothing can be trained; reinstall LLM Lab (npm install builds them), then try again.`,
    );
  }
  const outDir = path.resolve(options.outDir);
  if (options.tokenizerDir !== undefined && options.tokenizer !== undefined) {
    throw new LlmLabError('bad-argument', 'Give a tokenizer encoding or a trained tokenizer folder, not both.');
  }
  const { tokenizer, bpe } = await runTokenizer(outDir, options);
  const given = resolvePretrainOptions(options);
  if (bpe) {
    given.tokenizer = TRAINED_TOKENIZER; // the vocabulary follows the tokenizer
    given.model = { ...given.model, vocabSize: tokenizer.vocabSize };
  }
  const start = await planRunStart(outDir, options, given);
  const o = start.options;
  if ((o.tokenizer === TRAINED_TOKENIZER) !== (bpe !== undefined)) {
    throw new LlmLabError(
      'bad-argument',
      bpe
        ? `Run ${outDir} was started with the ${o.tokenizer} encoding, not a trained tokenizer; resume without --tokenizer.`
        : `Run ${outDir} was started with a trained tokenizer, but its copy in ${path.join(outDir, RUN_TOKENIZER_DIR)} is missing; resume with --tokenizer and the same folder.`,
    );
  }
  const data = prepareData(await tokensOf(options, o, tokenizer, hooks.signal), o);

  let model: GptModel | undefined;
  let optimizer: AdamW | undefined;
  const sampler = makeSampler(data, o);
  let step = 0;
  let tokensSeen = 0;
  let elapsedMs = 0;
  let bestValLoss: number | undefined;
  let lastValLoss: number | undefined;
  let checkpointDir: string | undefined;
  try {
    if (start.resumeFrom) {
      const { state, optimizerTensors } = await loadTrainingState(start.resumeFrom.dir);
      const s = state as unknown as SavedState;
      if (typeof s.sampler !== 'object' || s.sampler === null || typeof s.tokensSeen !== 'number') {
        throw new LlmLabError(
          'bad-checkpoint',
          `${path.join(start.resumeFrom.dir, 'training_state.json')} lacks the data position; resume from an earlier checkpoint or start a new run.`,
        );
      }
      if (s.dataFingerprint !== data.fingerprint) {
        throw new LlmLabError(
          'bad-argument',
          `The training data (${data.fingerprint}) is not the data run ${outDir} was started with (${s.dataFingerprint}); resume with the same corpus or start a new run.`,
        );
      }
      model = (await loadModelFrom(start.resumeFrom.dir)).model;
      optimizer = new AdamW(model, o);
      optimizer.loadState(optimizerTensors, start.resumeFrom.dir);
      sampler.setState(s.sampler as SamplerState);
      ({ step, tokensSeen, elapsedMs, bestValLoss, lastValLoss } = s);
      checkpointDir = start.resumeFrom.dir;
    } else {
      await fsp.mkdir(outDir, { recursive: true });
      await fsp.writeFile(path.join(outDir, METRICS_FILE), '');
      if (bpe) {
        await fsp.mkdir(path.join(outDir, RUN_TOKENIZER_DIR), { recursive: true });
        await writeTokenizerFiles(path.join(outDir, RUN_TOKENIZER_DIR), bpe, tokenizer);
      }
      model = GptModel.create(o.model, o.seed);
      optimizer = new AdamW(model, o);
    }
    const now = new Date().toISOString();
    await writeRunRecord(outDir, {
      formatVersion: RUN_FORMAT_VERSION,
      kind: 'pretrain',
      options: o,
      dataFingerprint: data.fingerprint,
      backend: tf.getBackend(),
      createdAt: start.record?.createdAt ?? now,
      updatedAt: now,
    });
    return await trainLoop();
  } finally {
    optimizer?.dispose();
    model?.dispose();
  }

  async function trainLoop(): Promise<TrainResult> {
    const m = model!;
    const opt = optimizer!;
    const log = MetricsLog.inRun(outDir);
    const emit = (e: TrainEvent): void => {
      log.write(e);
      hooks.onEvent?.(e);
    };
    const B = o.batchSize;
    const T = o.model.contextLength;
    const training = o.model.dropRate > 0;
    const sample = samplePlan(o, data, tokenizer);
    let savedStep = start.resumeFrom?.step ?? -1;
    let sessionTokens = 0;
    let sessionMs = 0;
    let lastLoss: number | undefined;

    const save = async (): Promise<void> => {
      const state: SavedState = {
        step, tokensSeen, elapsedMs, sampler: sampler.getState(), bestValLoss, lastValLoss, dataFingerprint: data.fingerprint, options: o,
      };
      checkpointDir = await saveTrainingCheckpoint(outDir, {
        step, model: m, optimizerTensors: opt.stateTensors(), state: state as unknown as Record<string, unknown>, keepLast: o.keepCheckpoints,
        ...(bpe ? { tokenizer: bpe } : {}),
      });
      savedStep = step;
      emit({ type: 'checkpoint', step, dir: checkpointDir });
    };

    emit({
      type: 'start', step, totalSteps: o.steps, resumed: start.resumeFrom !== undefined, parameters: countParameters(o.model),
      trainTokens: data.train.length, valTokens: data.val.length, trainWindows: data.trainWindows.count,
      stepsPerEpoch: Math.floor(data.trainWindows.count / B),
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
        const batch = sampler.next();
        const lr = learningRateAt(step + 1, { lr: o.lr, minLr: o.minLr, warmupSteps: o.warmupSteps, totalSteps: o.steps });
        const { loss, grads } = await computeGradients(m, batch, o.gradAccumSteps, training, (j) => dropoutSeed(o.seed, step + 1, j));
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
          opt.update(grads, lr, step + 1);
        } finally {
          tf.dispose([...grads.values()]);
        }
        step++;
        lastLoss = loss;
        const dt = performance.now() - t0;
        tokensSeen += B * T;
        sessionTokens += B * T;
        sessionMs += dt;
        elapsedMs += dt;
        emit({
          type: 'step', step, totalSteps: o.steps, loss, lr, gradNorm, tokensSeen,
          tokensPerSec: sessionMs > 0 ? (sessionTokens * 1000) / sessionMs : 0, elapsedMs,
        });
        const last = step === o.steps;
        if (data.valWindows && o.evalEvery > 0 && (step % o.evalEvery === 0 || last)) {
          lastValLoss = await validationLoss(m, data.valWindows, B, o.evalBatches, hooks.signal);
          bestValLoss = bestValLoss === undefined ? lastValLoss : Math.min(bestValLoss, lastValLoss);
          emit({ type: 'eval', step, valLoss: lastValLoss, bestValLoss });
        }
        if (o.sampleEvery > 0 && (step % o.sampleEvery === 0 || last)) {
          const ids = await greedyContinue(m, sample.prompt, o.sampleTokens);
          emit({ type: 'sample', step, prompt: sample.label, text: sample.decode(ids) });
        }
        if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && !last) await save();
      }
      if (step !== savedStep) await save();
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
