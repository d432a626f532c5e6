// config.json of a checkpoint, in the Hugging Face GPT-2 layout so `transformers` reads our folders, with our own
// fields in an "llm_lab" block. Reading accepts any GPT-2 config.json (ours or one from the Hugging Face hub) and
// rejects, with a reason, the variants our model cannot run.
import type { GptConfig } from '../model/config';
import { validateConfig } from '../model/config';
import { LlmLabError } from '../errors';

/** Version of the checkpoint layout we write; readers refuse newer ones. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Our fields, stored under "llm_lab" in config.json. */
export interface LlmLabMeta {
  /** Layout version of the folder (CHECKPOINT_FORMAT_VERSION when written). */
  formatVersion: number;
  /** Whether the model uses the qkv bias; when false the file carries a zero `c_attn.bias` for transformers. */
  qkvBias: boolean;
  /** Tokenizer the ids refer to. */
  tokenizer: string;
  /** Optimizer step the weights come from, when written by training. */
  step?: number;
  /**
   * Set when config.json describes a classifier (GPT2ForSequenceClassification): its class names in index order.
   * Its body loads as a model, but the body has no trained language-model head.
   */
  classifierLabels?: string[];
  /** Anything else a writer adds (e.g. what the run was). */
  [key: string]: unknown;
}

export interface HfGpt2Config {
  [key: string]: unknown;
}

/** The config.json object for a model config plus our extra fields. */
export function toHfConfig(c: GptConfig, extra: Partial<LlmLabMeta> = {}): HfGpt2Config {
  const llmLab: LlmLabMeta = { tokenizer: 'gpt2', ...extra, formatVersion: CHECKPOINT_FORMAT_VERSION, qkvBias: c.qkvBias };
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.contextLength,
    n_ctx: c.contextLength,
    n_embd: c.embDim,
    n_head: c.nHeads,
    n_layer: c.nLayers,
    n_inner: null,
    activation_function: 'gelu_new',
    resid_pdrop: c.dropRate,
    embd_pdrop: c.dropRate,
    attn_pdrop: c.dropRate,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    bos_token_id: 50256,
    eos_token_id: 50256,
    tie_word_embeddings: c.tiedHead,
    torch_dtype: 'float32',
    llm_lab: llmLab,
  };
}

function num(file: string, raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new LlmLabError('bad-checkpoint', `${file}: "${key}" is missing or not a number; a GPT-2 config.json needs it.`);
  }
  return v;
}

/** Model config and our metadata from a parsed config.json; `file` names it in errors. */
export function fromHfConfig(file: string, raw: unknown): { config: GptConfig; meta: LlmLabMeta } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LlmLabError('bad-checkpoint', `${file} is not a JSON object; expected a GPT-2 config.json.`);
  }
  const r = raw as Record<string, unknown>;
  if (r.model_type !== undefined && r.model_type !== 'gpt2') {
    throw new LlmLabError('bad-checkpoint', `${file}: model_type is "${String(r.model_type)}"; LLM Lab loads GPT-2 models only.`);
  }
  const unsupported = (what: string): LlmLabError =>
    new LlmLabError('bad-checkpoint', `${file}: ${what}, which LLM Lab's GPT-2 does not support; use a standard GPT-2 checkpoint.`);
  const C = num(file, r, 'n_embd');
  if (r.n_inner !== undefined && r.n_inner !== null && r.n_inner !== 4 * C) throw unsupported(`n_inner is ${String(r.n_inner)} (not 4·n_embd)`);
  const act = r.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') throw unsupported(`activation_function is "${String(act)}"`);
  const eps = r.layer_norm_epsilon ?? 1e-5;
  if (typeof eps === 'number' && Math.abs(eps - 1e-5) > 1e-12) throw unsupported(`layer_norm_epsilon is ${eps}`);
  if (r.scale_attn_by_inverse_layer_idx === true) throw unsupported('scale_attn_by_inverse_layer_idx is true');
  if (r.scale_attn_weights === false) throw unsupported('scale_attn_weights is false');

  const ours = (typeof r.llm_lab === 'object' && r.llm_lab !== null ? r.llm_lab : {}) as Partial<LlmLabMeta>;
  const formatVersion = typeof ours.formatVersion === 'number' ? ours.formatVersion : CHECKPOINT_FORMAT_VERSION;
  if (formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new LlmLabError(
      'bad-checkpoint',
      `${file} was written by a newer LLM Lab (checkpoint format ${formatVersion}, this one reads up to ${CHECKPOINT_FORMAT_VERSION}); update LLM Lab.`,
    );
  }
  const drop = num(file, r, 'resid_pdrop', 0.1);
  const config: GptConfig = {
    vocabSize: num(file, r, 'vocab_size'),
    contextLength: num(file, r, 'n_positions', typeof r.n_ctx === 'number' ? r.n_ctx : undefined),
    embDim: C,
    nHeads: num(file, r, 'n_head'),
    nLayers: num(file, r, 'n_layer'),
    dropRate: drop,
    qkvBias: ours.qkvBias ?? true,
    tiedHead: r.tie_word_embeddings === undefined ? true : r.tie_word_embeddings === true,
  };
  try {
    validateConfig(config);
  } catch (e) {
    throw new LlmLabError('bad-checkpoint', `${file}: ${(e as Error).message}`);
  }
  const meta: LlmLabMeta = { tokenizer: 'gpt2', ...ours, formatVersion, qkvBias: config.qkvBias };
  const classifierLabels = classLabels(file, r);
  if (classifierLabels) meta.classifierLabels = classifierLabels;
  return { config, meta };
}

/** Whether a parsed config.json names the sequence-classification architecture. */
export function isClassifierConfig(raw: Record<string, unknown>): boolean {
  return Array.isArray(raw.architectures) && raw.architectures.includes('GPT2ForSequenceClassification');
}

/**
 * A classifier config's class names in index order: from id2label, else num_labels' LABEL_0… (as transformers
 * names them). Undefined when the config is not a classifier's.
 */
export function classLabels(file: string, r: Record<string, unknown>): string[] | undefined {
  if (!isClassifierConfig(r)) return undefined;
  const id2label = r.id2label;
  if (typeof id2label === 'object' && id2label !== null && !Array.isArray(id2label)) {
    const entries = Object.entries(id2label as Record<string, unknown>);
    const labels: string[] = [];
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string' || labels[i] !== undefined) {
        throw new LlmLabError('bad-checkpoint', `${file}: id2label must map 0…${entries.length - 1} to class names; entry ${JSON.stringify(k)} does not.`);
      }
      labels[i] = v;
    }
    return labels;
  }
  const n = typeof r.num_labels === 'number' && Number.isInteger(r.num_labels) && r.num_labels > 0 ? r.num_labels : 2;
  return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
}
