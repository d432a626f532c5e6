// A model's vital statistics for `llm-lab info` and the panel: its configuration, parameter count and
// how much memory training and inference need.
import type { GptConfig, MemoryEstimate } from '../model/config';
import { countParameters, estimateMemory, validateConfig } from '../model/config';
import type { GptModel } from '../model/gpt';
import { PRETRAIN_DEFAULTS } from '../train/options';

/** Batch size of the memory estimate for training when none is given: pretrain's default. */
export const DEFAULT_INFO_BATCH: number = PRETRAIN_DEFAULTS.batchSize;

export interface ModelInfo {
  config: GptConfig;
  /** Trainable parameters, a tied head counted once. */
  parameters: number;
  /** Batch size the training estimate is for. */
  batchSize: number;
  /** Memory to train with `batchSize` sequences of the full context. */
  training: MemoryEstimate;
  /** Memory to run one sequence of the full context (weights + one forward pass). */
  inferenceBytes: number;
}

export function modelInfo(model: GptModel | GptConfig, opts: { batchSize?: number } = {}): ModelInfo {
  const config = 'params' in model ? model.config : model;
  validateConfig(config);
  const batchSize = opts.batchSize ?? DEFAULT_INFO_BATCH;
  return {
    config: { ...config },
    parameters: countParameters(config),
    batchSize,
    training: estimateMemory(config, batchSize),
    inferenceBytes: estimateMemory(config, 1).inferenceBytes,
  };
}
