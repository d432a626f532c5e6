// Will a model fit? One rule for every place that is about to allocate one: training (the extension's preflight,
// the trainer) and loading a model folder. A model whose estimate is over 80% of the machine's memory is refused
// before anything is allocated, with the figures, instead of failing deep inside an allocation or the OS killing
// the process.
import { totalmem } from 'node:os';
import { LlmLabError } from '../errors';
import type { GptConfig } from './config';
import { countParameters, estimateMemory, formatBytes } from './config';

/** The share of the machine's memory a job may plan to use. */
export const MEMORY_FRACTION = 0.8;

export interface MemoryVerdict {
  needed: number;
  fits: boolean;
}

/** Whether training this config with `batchSize` sequences fits. */
export function memoryCheck(config: GptConfig, batchSize: number, machineBytes = totalmem()): MemoryVerdict {
  const needed = estimateMemory(config, batchSize).trainingBytes;
  return { needed, fits: needed <= MEMORY_FRACTION * machineBytes };
}

/**
 * Whether loading a model of this config fits: its weights twice (the file's bytes are read before the tensors
 * are made) plus one forward pass of a full context.
 */
export function loadingMemoryCheck(config: GptConfig, machineBytes = totalmem()): MemoryVerdict {
  const m = estimateMemory(config, 1);
  const needed = m.inferenceBytes + m.weightsBytes;
  return { needed, fits: needed <= MEMORY_FRACTION * machineBytes };
}

/** Throws an 'out-of-memory' LlmLabError naming `what` when loading a model of this config will not fit. */
export function assertLoadingFits(config: GptConfig, what: string, machineBytes = totalmem()): void {
  const v = loadingMemoryCheck(config, machineBytes);
  if (v.fits) return;
  throw new LlmLabError(
    'out-of-memory',
    `${what} has ${countParameters(config).toLocaleString('en-US')} parameters and needs about ${formatBytes(v.needed)} of memory to load, ` +
      `but this machine has ${formatBytes(machineBytes)} in all (LLM Lab plans for at most ${MEMORY_FRACTION * 100}%); use a smaller model or a machine with more memory.`,
  );
}

function describeShape(c: GptConfig): string {
  return `${c.nLayers} layers of width ${c.embDim}, context ${c.contextLength}, vocabulary ${c.vocabSize}`;
}

/**
 * Throws an 'out-of-memory' LlmLabError when training this config with micro-batches of `batchSize` will not
 * fit; `from` says where the shape came from ("of these training settings") so the message says what to change.
 */
export function assertTrainingFits(config: GptConfig, batchSize: number, from: string, machineBytes = totalmem()): void {
  const v = memoryCheck(config, batchSize, machineBytes);
  if (v.fits && Number.isFinite(v.needed)) return;
  throw new LlmLabError(
    'out-of-memory',
    `The model ${from} (${describeShape(config)}; ${countParameters(config).toLocaleString('en-US')} parameters) needs about ${formatBytes(v.needed)} ` +
      `to train with batch ${batchSize}; this machine has ${formatBytes(machineBytes)} (LLM Lab plans for at most ${MEMORY_FRACTION * 100}%). ` +
      'Choose a smaller preset, fewer layers, a smaller width or context, or a smaller batch.',
  );
}
