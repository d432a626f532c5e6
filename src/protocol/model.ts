// The shapes of a model that every side shares: the tokenizer encodings LLM Lab knows and a GPT's
// configuration. Declared once as runtime checkers; core, the worker, the extension and the panel take
// their types from here.
import type { Infer } from './validate';
import { bool, int, literal, num, obj } from './validate';

/** OpenAI's BPE encodings: GPT-2's (what the models use), and cl100k_base and o200k_base for counting. */
export const ENCODINGS = ['gpt2', 'cl100k_base', 'o200k_base'] as const;
export type Encoding = (typeof ENCODINGS)[number];
export const encoding = literal(...ENCODINGS);

/** How an instruction-tuned model's prompts are written (src/core/instruct/prompt.ts has the templates). */
export const PROMPT_STYLES = ['alpaca', 'phi3'] as const;
export const promptStyle = literal(...PROMPT_STYLES);

export const gptConfig = obj({
  /** Vocabulary size; 50,257 for GPT-2's BPE. */
  vocabSize: int({ min: 1 }),
  /** Context length: the most positions the model sees at once (size of the position table). */
  contextLength: int({ min: 1 }),
  /** Embedding width C; must divide by nHeads. */
  embDim: int({ min: 1 }),
  /** Attention heads per layer. */
  nHeads: int({ min: 1 }),
  /** Transformer blocks. */
  nLayers: int({ min: 1 }),
  /** Dropout on embeddings, attention weights and residual branches during training; 0 turns it off. */
  dropRate: num({ min: 0, max: 1 }),
  /** Bias on the query/key/value projection (GPT-2 has one). */
  qkvBias: bool,
  /** Output head shares the token-embedding matrix (GPT-2 does). */
  tiedHead: bool,
});
export type GptConfig = Infer<typeof gptConfig>;
