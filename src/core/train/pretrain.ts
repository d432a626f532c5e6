// Pretraining: next-token prediction on a corpus, as a task of the shared training loop (trainer.ts: AdamW,
// warmup + cosine learning rate, accumulation and clipping, checkpoints, exact resume, cancel, the divergence
// stop). This module supplies the batches (seeded windows of the tokenized corpus), the loss (mean next-token
// cross-entropy over every parameter), validation on the held-out tokens and a greedy text sample every N steps.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RUN_TOKENIZER_DIR } from '../checkpoint/layout';
import { loadModelFrom, writeModelFiles } from '../checkpoint/modelFiles';
import { engineInfo, tf } from '../engine';
import { LlmLabError } from '../errors';
import type { SamplerState } from '../data';
import { encodeCorpus } from '../data';
import type { FimOptions, FimSentinels } from '../data/fim';
import { encodeFimCorpus, fimRng, sentinelsAfter } from '../data/fim';
import { fimTokenizer } from '../checkpoint/modelTokenizer';
import { countParameters } from '../model/config';
import { assertTrainingFits } from '../model/memory';
import { GptModel } from '../model/gpt';
import type { Tokenizer } from '../tokenizer';
import { getTokenizer, tokenizerFromVocab } from '../tokenizer';
import type { BpeModel } from '../tokenizer/bpeModel';
import { TRAINED_TOKENIZER, vocabOfModel } from '../tokenizer/bpeModel';
import { isTokenizerFolder, loadBpeModel, modelText, writeTokenizerFiles } from '../tokenizer/files';
import type { RunData } from './data';
import { makeSampler, prepareData, toTokenArray } from './data';
import { greedyContinue, validationLoss } from './monitor';
import type { PretrainOptions, ResolvedPretrainOptions } from './options';
import { resolvePretrainOptions } from './options';
import { planRunStart, pretrainRunRule } from './runFolder';
import type { TokenBatch } from './step';
import { tokenBatchLoss } from './step';
import type { TrainHooks, TrainResult, TrainingTask } from './trainer';
import { runTraining } from './trainer';

export type PretrainHooks = TrainHooks;
export type { TrainResult };

/** Where a run keeps its own copy of a trained tokenizer. */
export { RUN_TOKENIZER_DIR };

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

/** The run's fill-in-the-middle settings (a run recorded before they existed has none: off). */
function fimSettings(o: ResolvedPretrainOptions): FimOptions {
  return { rate: o.fimRate ?? 0, spmRate: o.fimSpmRate ?? 0 };
}

/** The training ids: `base` encodes the text (with the FIM transformation when `fim` is given). */
async function tokensOf(opts: PretrainOptions, o: ResolvedPretrainOptions, base: Tokenizer, fim: FimSentinels | undefined, signal?: AbortSignal): Promise<Int32Array> {
  if ((opts.text === undefined) === (opts.tokens === undefined)) {
    throw new LlmLabError('bad-argument', 'Give the training data as either text or tokens (exactly one of them).');
  }
  if (opts.tokens !== undefined) {
    if (fim) throw new LlmLabError('bad-argument', 'Fill-in-the-middle cuts documents at characters, so it needs the training data as text, not tokens.');
    return toTokenArray(opts.tokens, o.model.vocabSize);
  }
  const text = opts.text ?? '';
  if (text.trim().length === 0) throw new LlmLabError('bad-data', 'The training text is empty; give a corpus with some text in it.');
  const ids = fim
    ? await encodeFimCorpus(text, base, fimSettings(o), fim, fimRng(o.seed), { signal })
    : await encodeCorpus(text, base, { signal });
  return toTokenArray(ids, o.model.vocabSize);
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

/** Next-token prediction on token windows: the pretraining task for the shared loop. */
function pretrainTask(model: GptModel, o: ResolvedPretrainOptions, data: RunData, tokenizer: Tokenizer, bpe?: BpeModel, fim?: FimSentinels): TrainingTask<TokenBatch> {
  const B = o.batchSize;
  const sampler = makeSampler(data, o);
  const training = o.model.dropRate > 0;
  const sample = samplePlan(o, data, tokenizer);
  return {
    params: model.params,
    trainable: new Set(model.params.keys()),
    batches: { next: () => sampler.next(), getState: () => sampler.getState(), setState: (s) => sampler.setState(s as SamplerState) },
    dataFingerprint: data.fingerprint,
    dataSizes: {
      trainTokens: data.train.length, valTokens: data.val.length, trainWindows: data.trainWindows.count,
      stepsPerEpoch: Math.floor(data.trainWindows.count / B),
    },
    parameters: countParameters(o.model),
    tokensPerStep: B * o.model.contextLength,
    loss: (batch, from, rows, seed) => tokenBatchLoss(model, batch, training)(from, rows, seed),
    evaluate: data.valWindows
      ? async (signal) => ({ valLoss: await validationLoss(model, data.valWindows!, B, o.evalBatches, signal) })
      : undefined,
    afterStep: async (step, last, emit) => {
      if (o.sampleEvery > 0 && (step % o.sampleEvery === 0 || last)) {
        const ids = await greedyContinue(model, sample.prompt, o.sampleTokens);
        emit({ type: 'sample', step, prompt: sample.label, text: sample.decode(ids) });
      }
    },
    writeModel: async (dir, step) => {
      await writeModelFiles(dir, model, { step, ...(bpe ? { tokenizer: TRAINED_TOKENIZER } : {}), ...(fim ? { fim: { ...fim } } : {}) });
      if (bpe) await writeTokenizerFiles(dir, bpe);
    },
  };
}

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
  const { tokenizer: base, bpe } = await runTokenizer(outDir, options);
  const given = resolvePretrainOptions(options);
  if (bpe) {
    given.tokenizer = TRAINED_TOKENIZER; // the vocabulary follows the tokenizer
    given.model = { ...given.model, vocabSize: base.vocabSize };
  }
  // Fill-in-the-middle adds its three sentinels right after the tokenizer's ids.
  if (given.fimRate > 0) given.model = { ...given.model, vocabSize: Math.max(given.model.vocabSize, base.vocabSize + 3) };
  const start = await planRunStart(outDir, 'pretrain', options.resume === true, given, pretrainRunRule(options));
  // The folder is locked from here; runTraining releases it, and so does a failure before the run starts.
  try {
    const o = start.options;
    const fim = fimSettings(o).rate > 0 ? sentinelsAfter(base.vocabSize) : undefined;
    if (fim && o.model.vocabSize < base.vocabSize + 3) {
      throw new LlmLabError('bad-argument', `Fill-in-the-middle needs a vocabulary of ${base.vocabSize + 3} (the tokenizer's ${base.vocabSize} and three sentinels), but the model has ${o.model.vocabSize}.`);
    }
    const tokenizer = fim ? fimTokenizer(base, fim) : base;
    if ((o.tokenizer === TRAINED_TOKENIZER) !== (bpe !== undefined)) {
      throw new LlmLabError(
        'bad-argument',
        bpe
          ? `Run ${outDir} was started with the ${o.tokenizer} encoding, not a trained tokenizer; resume without --tokenizer.`
          : `Run ${outDir} was started with a trained tokenizer, but its copy in ${path.join(outDir, RUN_TOKENIZER_DIR)} is missing; resume with --tokenizer and the same folder.`,
      );
    }
    assertTrainingFits(o.model, o.batchSize / o.gradAccumSteps, 'of these training settings');
    const data = prepareData(await tokensOf(options, o, base, fim, hooks.signal), o);
    if (!start.resumeFrom && bpe) {
      await fsp.mkdir(path.join(outDir, RUN_TOKENIZER_DIR), { recursive: true });
      await writeTokenizerFiles(path.join(outDir, RUN_TOKENIZER_DIR), bpe, base);
    }
    const model = start.resumeFrom ? (await loadModelFrom(start.resumeFrom.dir)).model : GptModel.create(o.model, o.seed);
    try {
      return await runTraining(
        pretrainTask(model, o, data, tokenizer, bpe, fim),
        o,
        { outDir, kind: 'pretrain', options: o, resumeFrom: start.resumeFrom, createdAt: start.record?.createdAt, lock: start.lock },
        hooks,
      );
    } finally {
      model.dispose();
    }
  } finally {
    await start.lock.release();
  }
}
