// The worker's fine-tuning jobs: the plan shown before a run starts (data and base checked, no weights
// loaded), the run itself through core's task (classification or instructions), and a classifier's
// predictions. Events are forwarded to the host as pretraining's are; cancelling stops after the current step
// with a checkpoint, and resuming continues from it.
import { totalmem } from 'node:os';
import { classify, finetuneClassifier, isTrainableChoice, loadClassifier, planClassifier } from '../core/classify';
import type { ClassifyOptions, TrainableChoice } from '../core/classify';
import { initEngine } from '../core/engine';
import { LlmLabError } from '../core/errors';
import { finetuneInstruct, planInstructFinetune } from '../core/instruct';
import type { InstructFinetuneOptions } from '../core/instruct';
import type { LoraTarget } from '../core/lora';
import { parseLoraTargets } from '../core/lora';
import { MEMORY_FRACTION } from '../core/model/memory';
import { isPresetName } from '../core/model/config';
import type { PresetName } from '../core/model/config';
import type { FinetuneLoopOptions } from '../core/train/loopOptions';
import type { FinetuneJob, LoraChoice, ParamsOf, ResultOf } from '../protocol/worker';
import { configuredBackend } from './backend';
import type { JobContext } from './server';
import { runResult } from './trainJob';

type ClassifyJob = Extract<FinetuneJob, { task: 'classify' }>;
type InstructJob = Extract<FinetuneJob, { task: 'instruct' }>;

/** What trains, in words. */
export function describeTraining(trainable: string | undefined, lora: { rank: number; alpha?: number; targets?: readonly string[] } | undefined): string {
  if (lora) {
    const targets = lora.targets?.length ? lora.targets.join(', ') : 'every linear layer';
    return `LoRA rank ${lora.rank} (alpha ${lora.alpha ?? lora.rank}) on ${targets}`;
  }
  if (trainable === undefined) return 'every parameter';
  if (trainable === 'lora') return 'LoRA adapters';
  if (trainable === 'all') return 'every parameter';
  if (trainable === 'head') return 'the classification head';
  if (trainable === 'last-block') return 'the last block, the final norm and the head';
  const n = Number(trainable.slice('last-'.length));
  return `the last ${n} blocks, the final norm and the head`;
}

function preset(job: FinetuneJob): PresetName | undefined {
  if (job.preset === undefined) return undefined;
  if (!isPresetName(job.preset)) throw new LlmLabError('bad-argument', `Unknown preset "${job.preset}".`);
  return job.preset;
}

function loraTargets(lora: LoraChoice): LoraTarget[] | undefined {
  return lora.targets ? parseLoraTargets(lora.targets.join(',')) : undefined;
}

/** Fields left undefined are dropped, so core's defaults apply. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The loop settings and the run folder every fine-tuning job gives, as core's options. */
function loopOptions(job: FinetuneJob): FinetuneLoopOptions {
  return {
    outDir: job.runDir,
    epochs: job.epochs,
    batchSize: job.batchSize,
    lr: job.learningRate,
    evalEvery: job.evalEvery,
    checkpointEvery: job.checkpointEvery,
    seed: job.seed,
    resume: job.resume,
  };
}

function classifyOptions(job: ClassifyJob): ClassifyOptions {
  if (job.trainable !== undefined && !isTrainableChoice(job.trainable)) {
    throw new LlmLabError('bad-argument', `"${job.trainable}" is not a choice of what trains; use last-block, head, last-N or all.`);
  }
  return defined({
    ...loopOptions(job),
    dataFile: job.dataFile,
    modelDir: job.modelDir,
    preset: preset(job),
    lora: job.lora ? defined({ rank: job.lora.rank, alpha: job.lora.alpha, targets: loraTargets(job.lora) }) : undefined,
    model: job.contextLength ? { contextLength: job.contextLength } : undefined,
    trainable: job.trainable as TrainableChoice | undefined,
    balance: job.balance,
    maxLength: job.maxLength,
    textField: job.textField,
    labelField: job.labelField,
    valFraction: job.valFraction,
    testFraction: job.testFraction,
    maxFileBytes: job.maxFileBytes,
  });
}

function instructOptions(job: InstructJob): InstructFinetuneOptions {
  return defined({
    ...loopOptions(job),
    dataFile: job.dataFile,
    modelDir: job.modelDir,
    preset: preset(job),
    promptStyle: job.promptStyle,
    maskPrompt: job.maskPrompt,
    responses: job.responses,
    maxResponseTokens: job.maxResponseTokens,
    lora: job.lora ? defined({ rank: job.lora.rank, alpha: job.lora.alpha, targets: loraTargets(job.lora) }) : undefined,
  });
}

export async function planFinetuneJob(job: ParamsOf<'finetune/plan'>): Promise<ResultOf<'finetune/plan'>> {
  const machineBytes = totalmem();
  if (job.task === 'classify') {
    const p = await planClassifier(classifyOptions(job));
    return {
      task: 'classify', rows: p.rows, split: p.split, labels: p.labels, perClass: p.perClass, perClassBalanced: p.perClassBalanced,
      longest: p.longest, maxLength: p.maxLength, truncated: p.truncated, epochs: p.epochs, steps: p.steps, stepsPerEpoch: p.stepsPerEpoch,
      parameters: p.parameters, trainableParameters: p.trainableParameters, trains: describeTraining(p.trainable, job.lora),
      memoryBytes: p.memory.trainingBytes, machineBytes, fits: p.memory.trainingBytes <= MEMORY_FRACTION * machineBytes, base: p.base,
    };
  }
  const p = await planInstructFinetune(instructOptions(job));
  return {
    task: 'instruct', rows: p.records, split: p.split, longest: p.maxTokens, maxLength: p.contextLength, truncated: p.truncated,
    epochs: p.stepsPerEpoch > 0 ? p.totalSteps / p.stepsPerEpoch : 0, steps: p.totalSteps, stepsPerEpoch: p.stepsPerEpoch,
    parameters: p.parameters, trainableParameters: p.trainableParameters, trains: describeTraining(undefined, p.lora ?? job.lora),
    memoryBytes: p.memory.trainingBytes, machineBytes: p.memory.machineBytes, fits: p.memory.fits,
    base: p.baseModel.startsWith('preset:') ? `fresh ${p.baseModel.slice('preset:'.length)} weights` : p.baseModel, promptStyle: p.promptStyle,
  };
}

export async function finetuneJob(job: ParamsOf<'finetune/start'>, ctx: JobContext): Promise<ResultOf<'finetune/start'>> {
  const engine = await initEngine(configuredBackend());
  ctx.notify('train/didEvent', { type: 'log', message: `Engine: ${engine.backend} backend, ${engine.threads} thread(s).` });
  const hooks = { signal: ctx.signal, onEvent: (e: Parameters<typeof ctx.notify<'train/didEvent'>>[1]) => ctx.notify('train/didEvent', e) };
  const result = job.task === 'classify' ? await finetuneClassifier(classifyOptions(job), hooks) : await finetuneInstruct(instructOptions(job), hooks);
  return runResult(result);
}

export async function classifyJob(p: ParamsOf<'classify'>, ctx: JobContext): Promise<ResultOf<'classify'>> {
  await initEngine(configuredBackend());
  const loaded = await loadClassifier(p.modelDir);
  try {
    const predictions = await classify(loaded, p.texts, { signal: ctx.signal });
    return { labels: loaded.labels, predictions: predictions.map((x) => ({ label: x.label, probabilities: x.probabilities })) };
  } finally {
    loaded.classifier.dispose();
  }
}
