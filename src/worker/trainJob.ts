// The worker's training job: reads the corpus files as the scan did, then runs core's pretrain in the run
// folder (which writes run.json, metrics.jsonl and checkpoints), forwarding every event to the host.
// Cancelling stops at the next step boundary after a checkpoint; resuming continues from the latest one.
import { loadCorpus } from '../core/data';
import { initEngine } from '../core/engine';
import { isPresetName } from '../core/model/config';
import { LlmLabError } from '../core/errors';
import { pretrain } from '../core/train';
import type { TrainResult } from '../core/train';
import type { ParamsOf, ResultOf } from '../protocol/worker';
import { configuredBackend } from './backend';
import type { JobContext } from './server';
import { SIZE_HINT } from './tokenizeJob';

export async function trainJob(job: ParamsOf<'train/start'>, ctx: JobContext): Promise<ResultOf<'train/start'>> {
  if (!isPresetName(job.preset)) throw new LlmLabError('bad-argument', `Unknown preset "${job.preset}".`);
  const engine = await initEngine(configuredBackend());
  const log = (message: string) => ctx.notify('train/didEvent', { type: 'log', message });
  log(`Engine: ${engine.backend} backend, ${engine.threads} thread(s).`);
  const corpus = await loadCorpus(job.files, { maxFileBytes: job.maxFileBytes, sizeHint: SIZE_HINT, signal: ctx.signal });
  log(`Corpus: ${corpus.files.length} file(s), ${corpus.text.length.toLocaleString('en-US')} characters${corpus.skipped.length ? `, ${corpus.skipped.length} skipped` : ''}.`);
  const result = await pretrain(
    {
      outDir: job.runDir,
      text: corpus.text,
      preset: job.preset,
      ...(job.contextLength ? { model: { contextLength: job.contextLength } } : {}),
      steps: job.steps,
      batchSize: job.batchSize,
      lr: job.learningRate,
      evalEvery: job.evalEvery,
      sampleEvery: job.evalEvery,
      checkpointEvery: job.checkpointEvery,
      seed: job.seed,
      resume: job.resume,
      ...(job.samplePrompt ? { samplePrompt: job.samplePrompt } : {}),
      ...(job.fimRate !== undefined ? { fimRate: job.fimRate } : {}),
      ...(job.fimSpmRate !== undefined ? { fimSpmRate: job.fimSpmRate } : {}),
    },
    { signal: ctx.signal, onEvent: (e) => ctx.notify('train/didEvent', e) },
  );
  return runResult(result);
}

/** What a training or fine-tuning job answers: where its run ended and how. */
export function runResult(result: TrainResult): ResultOf<'train/start'> {
  return {
    runDir: result.outDir,
    steps: result.step,
    finalLoss: result.lastLoss ?? null,
    checkpointDir: result.checkpointDir ?? null,
    cancelled: result.status === 'cancelled',
  };
}
