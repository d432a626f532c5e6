// The GPT-2 models on the Hugging Face hub, as plain data (no I/O), so the protocol and the UI can name them too.

/** The GPT-2 sizes on the hub, with what a user weighs before downloading (sizes of model.safetensors, rounded). */
export const GPT2_MODELS = {
  gpt2: { repo: 'openai-community/gpt2', parameters: 124_439_808, downloadBytes: 548e6 },
  'gpt2-medium': { repo: 'openai-community/gpt2-medium', parameters: 354_823_168, downloadBytes: 1.52e9 },
  'gpt2-large': { repo: 'openai-community/gpt2-large', parameters: 774_030_080, downloadBytes: 3.25e9 },
  'gpt2-xl': { repo: 'openai-community/gpt2-xl', parameters: 1_557_611_200, downloadBytes: 6.43e9 },
} as const;
export type Gpt2ModelName = keyof typeof GPT2_MODELS;
export const GPT2_MODEL_NAMES = Object.keys(GPT2_MODELS) as Gpt2ModelName[];

export function isGpt2ModelName(name: string): name is Gpt2ModelName {
  return Object.prototype.hasOwnProperty.call(GPT2_MODELS, name);
}
