// GPT model configuration: the presets LLM Lab ships, parameter counting and a memory estimate made
// before any run, so a user learns that a model will not fit before it is built.
import type { GptConfig } from '../../protocol/model';
import { LlmLabError } from '../errors';

/** The configuration's fields and their meaning are declared once, in src/protocol/model.ts. */
export type { GptConfig } from '../../protocol/model';

export const PRESET_NAMES = ['tiny', 'small', 'gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const GPT2_VOCAB = 50257;
const base = { vocabSize: GPT2_VOCAB, qkvBias: true, tiedHead: true };

export const PRESETS: Record<PresetName, GptConfig> = {
  // For tests and the demo: trains on a 2-core CPU in minutes.
  tiny: { ...base, contextLength: 64, embDim: 64, nHeads: 2, nLayers: 2, dropRate: 0 },
  // A small model that still trains on a laptop CPU.
  small: { ...base, contextLength: 128, embDim: 256, nHeads: 4, nLayers: 4, dropRate: 0.1 },
  // The published GPT-2 shapes (124M, 355M, 774M, 1558M parameters).
  gpt2: { ...base, contextLength: 1024, embDim: 768, nHeads: 12, nLayers: 12, dropRate: 0.1 },
  'gpt2-medium': { ...base, contextLength: 1024, embDim: 1024, nHeads: 16, nLayers: 24, dropRate: 0.1 },
  'gpt2-large': { ...base, contextLength: 1024, embDim: 1280, nHeads: 20, nLayers: 36, dropRate: 0.1 },
  'gpt2-xl': { ...base, contextLength: 1024, embDim: 1600, nHeads: 25, nLayers: 48, dropRate: 0.1 },
};

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** A preset with fields overridden, validated. */
export function makeConfig(preset: PresetName | GptConfig, overrides: Partial<GptConfig> = {}): GptConfig {
  const config = { ...(typeof preset === 'string' ? PRESETS[preset] : preset), ...overrides };
  validateConfig(config);
  return config;
}

export function validateConfig(c: GptConfig): void {
  const positive = ['vocabSize', 'contextLength', 'embDim', 'nHeads', 'nLayers'] as const;
  for (const key of positive) {
    const v = c[key];
    if (!Number.isInteger(v) || v < 1) {
      throw new LlmLabError('bad-argument', `Model setting ${key} must be a positive whole number, got ${v}.`);
    }
  }
  if (c.embDim % c.nHeads !== 0) {
    throw new LlmLabError(
      'bad-argument',
      `Model width embDim (${c.embDim}) must divide evenly by nHeads (${c.nHeads}); pick another head count.`,
    );
  }
  if (!(c.dropRate >= 0 && c.dropRate < 1)) {
    throw new LlmLabError('bad-argument', `dropRate must be in [0, 1), got ${c.dropRate}.`);
  }
}

/** Number of trainable parameters, counting a tied head once. */
export function countParameters(c: GptConfig): number {
  const C = c.embDim;
  const perLayer =
    2 * C + // ln_1
    C * 3 * C + (c.qkvBias ? 3 * C : 0) + // attn.c_attn
    C * C + C + // attn.c_proj
    2 * C + // ln_2
    C * 4 * C + 4 * C + // mlp.c_fc
    4 * C * C + C; // mlp.c_proj
  const embeddings = c.vocabSize * C + c.contextLength * C;
  const head = c.tiedHead ? 0 : c.vocabSize * C;
  return embeddings + c.nLayers * perLayer + 2 * C + head;
}

export interface MemoryEstimate {
  /** float32 weights. */
  weightsBytes: number;
  /** One gradient per weight. */
  gradientsBytes: number;
  /** AdamW's two moments per weight. */
  optimizerBytes: number;
  /** Activations kept for the backward pass of one micro-batch. */
  activationsBytes: number;
  /** Everything above, for training. */
  trainingBytes: number;
  /** Weights plus one forward pass without gradients, for inference. */
  inferenceBytes: number;
}

/**
 * Rough float32 memory needs of training and inference with `batchSize` sequences of the full context.
 * Activations follow the usual transformer count (about 34·B·T·C + 5·H·B·T² values a layer) plus the
 * logits, their softmax and gradient (3·B·T·V).
 */
export function estimateMemory(c: GptConfig, batchSize: number): MemoryEstimate {
  const f = 4;
  const p = countParameters(c);
  const B = batchSize;
  const T = c.contextLength;
  const perLayer = 34 * B * T * c.embDim + 5 * c.nHeads * B * T * T;
  const logits = 3 * B * T * c.vocabSize;
  const activationsBytes = f * (c.nLayers * perLayer + logits + 4 * B * T * c.embDim);
  const weightsBytes = f * p;
  const inferenceBytes = weightsBytes + f * (B * T * (6 * c.embDim + c.nHeads * T) + B * T * c.vocabSize);
  return {
    weightsBytes,
    gradientsBytes: weightsBytes,
    optimizerBytes: 2 * weightsBytes,
    activationsBytes,
    trainingBytes: 4 * weightsBytes + activationsBytes,
    inferenceBytes,
  };
}

/** "1.23 GB" style. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(2) : v < 100 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
