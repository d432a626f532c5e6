// Numbers about a planned pretraining run, before it starts: how the tokens split into windows and batches,
// how many passes over the data the steps make, the model size and the memory training needs. For the CLI's
// and the panel's "what will this run do" view.
import type { GptConfig, MemoryEstimate } from '../model/config';
import { countParameters, estimateMemory } from '../model/config';
import { windowCount } from './data';
import type { PretrainOptions } from './options';
import { resolvePretrainOptions } from './options';

export interface RunEstimate {
  config: GptConfig;
  parameters: number;
  tokens: number;
  trainTokens: number;
  valTokens: number;
  trainWindows: number;
  valWindows: number;
  /** Optimizer steps per pass over the training windows (partial batches are dropped). */
  stepsPerEpoch: number;
  /** Passes over the training windows that `steps` makes. */
  epochs: number;
  /** Tokens the model reads per optimizer step (batchSize × contextLength). */
  tokensPerStep: number;
  /** Memory of one micro-batch of training (batchSize / gradAccumSteps sequences). */
  memory: MemoryEstimate;
}

/** Estimates a run of the given options over `tokenCount` tokens of data (no data or model is touched). */
export function estimateRun(tokenCount: number, options: Omit<PretrainOptions, 'outDir'> = {}): RunEstimate {
  const o = resolvePretrainOptions({ ...options, outDir: '.' });
  const T = o.model.contextLength;
  const trainTokens = Math.floor((1 - o.valFraction) * tokenCount + 1e-7); // as splitTokens
  const valTokens = tokenCount - trainTokens;
  const trainWindows = windowCount(trainTokens, T, o.stride);
  const stepsPerEpoch = Math.floor(trainWindows / o.batchSize);
  return {
    config: o.model,
    parameters: countParameters(o.model),
    tokens: tokenCount,
    trainTokens,
    valTokens,
    trainWindows,
    valWindows: o.valFraction > 0 ? windowCount(valTokens, T, T) : 0,
    stepsPerEpoch,
    epochs: stepsPerEpoch > 0 ? o.steps / stepsPerEpoch : 0,
    tokensPerStep: o.batchSize * T,
    memory: estimateMemory(o.model, o.batchSize / o.gradAccumSteps),
  };
}
