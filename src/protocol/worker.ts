// The typed protocol between the extension host and the worker process that runs LLM Lab's jobs.
// Requests go host → worker and get exactly one response; while a request runs, the worker may push
// notifications (`*/did*`) tagged with the request's id; the host may cancel a request by id. Every
// payload has a runtime schema here, checked where it arrives (params in the worker, results and
// notifications in the host). Messages travel over Node's IPC with `serialization: 'advanced'`, so typed
// arrays (attention maps) cross without JSON.
import { encoding, gptConfig, promptStyle } from './model';
import { trainEventShapes } from './training';
import { completionMode, stopReason } from './completion';
import type { Check, Infer } from './validate';
import { GPT2_MODEL_NAMES } from '../core/hub/models';
import { arr, bool, float32Array, int, literal, nullable, num, obj, opt, record, str, tagged, unknownValue } from './validate';

// ---- shared shapes ----

export const tokenSpan = obj({
  /** Token id in the encoding. */
  id: int({ min: 0 }),
  /** UTF-16 offsets into the text that was sent. */
  start: int({ min: 0 }),
  end: int({ min: 0 }),
  /** The token's raw bytes (a token may hold part of a UTF-8 character). */
  bytes: arr(int({ min: 0, max: 255 })),
});
export type TokenSpan = Infer<typeof tokenSpan>;

/** Core's training events as the worker forwards them, plus `log` lines from the worker itself. */
export const trainEventWire = tagged('type', { ...trainEventShapes, log: obj({ message: str }) });
export type TrainEventWire = Infer<typeof trainEventWire>;

const modelInfo = obj({
  dir: str,
  name: str,
  config: gptConfig,
  parameters: int({ min: 0 }),
  /** The tokenizer's name: an encoding, or a trained tokenizer's name. */
  tokenizer: str,
  /** The folder holding the model's trained tokenizer (absent for an encoding). */
  tokenizerDir: opt(str),
  /** Training step of the checkpoint, when known. */
  step: opt(int({ min: 0 })),
  /** Prompt style of an instruction-tuned model. */
  promptStyle: opt(str),
  /** For a LoRA adapter folder: its base model folder, rank, alpha and the values it trained. */
  adapter: opt(obj({ base: str, rank: int({ min: 1 }), alpha: num({ min: 0 }), parameters: int({ min: 0 }) })),
  /** What the model does, in words: 'language model', 'classifier', 'instruction-tuned'. */
  task: opt(str),
  /** A classifier's classes, in the order of its outputs. */
  classes: opt(arr(str)),
  /** What its fine-tuning trained (in words) and how many values, of how many. */
  trained: opt(obj({ what: str, parameters: int({ min: 0 }), of: int({ min: 0 }) })),
});
export type ModelInfo = Infer<typeof modelInfo>;

/** What a pretraining job needs; `runDir` gets core's run.json, metrics.jsonl and checkpoints/, and the extension's job.json. */
export const trainJob = obj({
  runDir: str,
  /** Absolute paths of the corpus files. */
  files: arr(str),
  preset: str,
  /** Optional overrides of the preset (e.g. a shorter context). */
  contextLength: opt(int({ min: 2 })),
  steps: int({ min: 1 }),
  batchSize: int({ min: 1 }),
  learningRate: num({ min: 0 }),
  evalEvery: int({ min: 1 }),
  checkpointEvery: int({ min: 1 }),
  seed: int({ min: 0 }),
  maxFileBytes: int({ min: 1 }),
  /** Continue from the run's last checkpoint instead of starting afresh. */
  resume: bool,
  /** Text to sample after each eval, if any. */
  samplePrompt: opt(str),
  /** Fill-in-the-middle: the share of files transformed, and of those the share in SPM order (absent: off). */
  fimRate: opt(num({ min: 0, max: 1 })),
  fimSpmRate: opt(num({ min: 0, max: 1 })),
});
export type TrainJob = Infer<typeof trainJob>;

/** How a training job ended, for pretraining and fine-tuning alike. */
const runResult = obj({
  runDir: str,
  steps: int({ min: 0 }),
  finalLoss: nullable(num({ allowNonFinite: true })),
  checkpointDir: nullable(str),
  cancelled: bool,
});

/** LoRA adapters beside the frozen base instead of training its weights (the book's appendix E). */
const loraChoice = obj({
  /** Inner width r of every adapter. */
  rank: int({ min: 1 }),
  /** Scale numerator: an adapter's output is multiplied by alpha/rank. Default: the rank. */
  alpha: opt(num({ min: 0 })),
  /** Adapted layers (q, k, v, attn-out, mlp-in, mlp-out, head). Default: all of them, as the book. */
  targets: opt(arr(str)),
});
export type LoraChoice = Infer<typeof loraChoice>;

/** What every fine-tuning job names; unset numbers take the task's defaults (the book's recipe). */
const finetuneCommon = {
  /** The run folder: core's run.json, metrics.jsonl and checkpoints/, and the extension's job.json. */
  runDir: str,
  /** The data file (absolute path; only read). */
  dataFile: str,
  /** The base: a model or run folder, a downloaded GPT-2 … */
  modelDir: opt(str),
  /** … or fresh seeded weights of a preset (exactly one of the two). */
  preset: opt(str),
  /** A shorter context for a preset. */
  contextLength: opt(int({ min: 2 })),
  epochs: opt(int({ min: 1 })),
  batchSize: opt(int({ min: 1 })),
  learningRate: opt(num({ min: 0 })),
  evalEvery: opt(int({ min: 1 })),
  checkpointEvery: opt(int({ min: 1 })),
  seed: opt(int({ min: 0 })),
  lora: opt(loraChoice),
  /** Continue from the run's last checkpoint instead of starting afresh. */
  resume: bool,
};

/** A fine-tuning job, by task: classification (chapter 6) or instruction following (chapter 7). */
export const finetuneJob = tagged('task', {
  classify: obj({
    ...finetuneCommon,
    /** What trains without LoRA: 'last-block' (default), 'head', 'last-N', 'all'. */
    trainable: opt(str),
    /** Undersample every class to the smallest. */
    balance: opt(bool),
    /** Cap of the padded length in tokens. */
    maxLength: opt(int({ min: 1 })),
    /** Text and label column (or JSONL key); default 'text' and 'label', or the SMS Spam Collection's layout. */
    textField: opt(str),
    labelField: opt(str),
    valFraction: opt(num({ min: 0, max: 1 })),
    testFraction: opt(num({ min: 0, max: 1 })),
    maxFileBytes: opt(int({ min: 1 })),
  }),
  instruct: obj({
    ...finetuneCommon,
    promptStyle: opt(promptStyle),
    /** Leave the instruction out of the loss (the book's exercise 7.2). */
    maskPrompt: opt(bool),
    /** After training, answer the test split into test-responses.json (default yes), each answer at most this many tokens (256). */
    responses: opt(bool),
    maxResponseTokens: opt(int({ min: 1 })),
  }),
});
export type FinetuneJob = Infer<typeof finetuneJob>;
export type FinetuneTask = FinetuneJob['task'];

/** What a run folder's job.json records: a pretraining job, or a fine-tuning job (which names its task). */
export type RunJob = TrainJob | FinetuneJob;
export function isFinetuneJob(job: RunJob): job is FinetuneJob {
  return 'task' in job;
}

/** What a fine-tuning run will do, shown before it starts (every data error is found here). */
const finetunePlan = obj({
  task: str,
  /** Examples in the data file, and in each split. */
  rows: int({ min: 0 }),
  split: obj({ train: int({ min: 0 }), val: int({ min: 0 }), test: int({ min: 0 }) }),
  /** A classifier's classes, the rows of each, and after balancing. */
  labels: opt(arr(str)),
  perClass: opt(record(int({ min: 0 }))),
  perClassBalanced: opt(record(int({ min: 0 }))),
  /** Tokens of the longest training example, the padded length, and examples cut to it. */
  longest: int({ min: 0 }),
  maxLength: int({ min: 0 }),
  truncated: int({ min: 0 }),
  epochs: num({ min: 0 }),
  steps: int({ min: 0 }),
  stepsPerEpoch: int({ min: 0 }),
  parameters: int({ min: 0 }),
  trainableParameters: int({ min: 0 }),
  /** What trains, in words ("last block, final norm and head", "LoRA rank 8 (alpha 8) on q, k, v"). */
  trains: str,
  /** Training memory estimate, the machine's memory, and whether it fits (80% of it). */
  memoryBytes: int({ min: 0 }),
  machineBytes: int({ min: 0 }),
  fits: bool,
  /** The base model, in words (a folder, or a preset's fresh weights). */
  base: str,
  promptStyle: opt(promptStyle),
});
export type FinetunePlan = Infer<typeof finetunePlan>;

const fileList = arr(obj({ path: str, bytes: int({ min: 0 }) }));
const skippedList = arr(obj({ path: str, reason: str }));

/** Each request method: the params the worker checks and the result the host checks. */
export const workerRequests = {
  /** Starts (or reports) the compute backend. */
  'engine/info': {
    params: obj({ backend: opt(str) }),
    result: obj({
      backend: str,
      threads: int({ min: 0 }),
      attempts: arr(obj({ name: str, ok: bool, detail: str })),
      pid: int(),
      runtime: str,
      /** Model-level ops the backend runs with fused kernels. */
      fusedOps: arr(str),
      /** Why training cannot compute gradients here (inference still works); absent when it can. */
      gradientsMissing: opt(str),
      /** core's describeEngine text: what runs and why not the others. */
      summary: str,
    }),
  },
  /** Token ids and spans of a text; `maxSpans` caps the spans returned (the count is always exact). */
  tokenize: {
    params: obj({
      text: str,
      encoding,
      maxSpans: int({ min: 0 }),
      /** A trained tokenizer's folder (or a checkpoint holding one), used instead of `encoding`. */
      tokenizerDir: opt(str),
    }),
    result: obj({ count: int({ min: 0 }), spans: arr(tokenSpan), truncated: bool }),
  },
  /** Reads corpus files as the trainer will: what is used, what is skipped and why, the size in tokens. */
  'corpus/scan': {
    params: obj({ files: arr(str), maxFileBytes: int({ min: 1 }) }),
    result: obj({ files: fileList, skipped: skippedList, tokens: int({ min: 0 }) }),
  },
  /** Sliding training windows over a corpus (GPT-2 tokens), as the panel's Data tab shows them. */
  'data/preview': {
    params: obj({
      files: arr(str),
      maxFileBytes: int({ min: 1 }),
      maxLength: int({ min: 1 }),
      stride: int({ min: 1 }),
      offset: int({ min: 0 }),
      count: int({ min: 0, max: 200 }),
    }),
    result: obj({
      totalTokens: int({ min: 0 }),
      totalWindows: int({ min: 0 }),
      windows: arr(
        obj({ index: int({ min: 0 }), inputIds: arr(int({ min: 0 })), targetIds: arr(int({ min: 0 })), inputTokens: arr(str), targetTokens: arr(str) }),
      ),
    }),
  },
  /** Pretrains (or resumes) a run; pushes `train/didEvent`. One at a time. */
  'train/start': { params: trainJob, result: runResult },
  /** Reads and checks a fine-tuning job's data and base model (no weights): the summary before it starts. */
  'finetune/plan': { params: finetuneJob, result: finetunePlan },
  /** Fine-tunes (or resumes) a run; pushes `train/didEvent` (steps, evals with accuracy, the test result). Holds the training slot. */
  'finetune/start': { params: finetuneJob, result: runResult },
  /** A classifier's class and every class's probability for each text, in order. */
  classify: {
    params: obj({ modelDir: str, texts: arr(str, { max: 1000 }) }),
    result: obj({
      /** The classifier's classes, in the order of its outputs. */
      labels: arr(str),
      predictions: arr(obj({ label: str, probabilities: record(num({ min: 0, max: 1 })) })),
    }),
  },
  /** Config and size of a saved model folder. */
  'model/info': { params: obj({ modelDir: str }), result: modelInfo },
  /** Streams a continuation; pushes `generate/didToken`. */
  generate: {
    params: obj({
      modelDir: str,
      prompt: str,
      maxNewTokens: int({ min: 1 }),
      temperature: num({ min: 0 }),
      topK: opt(int({ min: 1 })),
      topP: opt(num({ min: 0, max: 1 })),
      seed: opt(int({ min: 0 })),
      topCandidates: opt(int({ min: 0, max: 50 })),
    }),
    result: obj({ text: str, tokens: int({ min: 0 }), stoppedAtEot: bool }),
  },
  /** An inline completion at a cursor (src/core/complete): the suggestion, or '' when there is none. */
  complete: {
    params: obj({
      /** A model folder or a run folder (its latest checkpoint). */
      modelDir: str,
      /** Text before the cursor (a tail of the document when `prefixTruncated`). */
      prefix: str,
      prefixTruncated: bool,
      /** Text after the cursor (a head of the document when `suffixTruncated`). */
      suffix: str,
      suffixTruncated: bool,
      mode: completionMode,
      maxLines: int({ min: 1 }),
      maxNewTokens: int({ min: 1 }),
      temperature: num({ min: 0 }),
    }),
    result: obj({
      text: str,
      tokens: int({ min: 0 }),
      promptTokens: int({ min: 0 }),
      stop: stopReason,
      /** Whether the text after the cursor was used (a fill-in-the-middle model). */
      fim: bool,
      /** The checkpoint folder that answered. */
      modelDir: str,
      /** Time the worker spent on it, model loading included. */
      ms: num({ min: 0 }),
    }),
  },
  /** Streams an instruction-tuned model's response (in its prompt style); pushes `generate/didToken`. */
  ask: {
    params: obj({
      modelDir: str,
      instruction: str,
      input: str,
      /** Overrides the model's recorded style. */
      promptStyle: opt(str),
      maxNewTokens: int({ min: 1 }),
      temperature: num({ min: 0 }),
      topK: opt(int({ min: 1 })),
      seed: opt(int({ min: 0 })),
    }),
    result: obj({ text: str, tokens: int({ min: 0 }), promptStyle: str, stoppedAtEot: bool }),
  },
  /** Merges a LoRA adapter folder into its base, saved as a plain model in `outDir` (a new folder). */
  'lora/merge': {
    params: obj({ adapterDir: str, outDir: str }),
    result: obj({ outDir: str, base: str, sites: int({ min: 0 }) }),
  },
  /** Loss and perplexity of the model on a text. */
  evaluate: {
    params: obj({ modelDir: str, text: str }),
    result: obj({ loss: num({ allowNonFinite: true }), perplexity: num({ allowNonFinite: true }), tokens: int({ min: 0 }) }),
  },
  /** Downloads a GPT-2 model from the hub into `<cacheDir>/<name>`; pushes `download/didProgress`. */
  'model/download': {
    params: obj({
      name: literal(...GPT2_MODEL_NAMES),
      /** Hub address; empty = HF_ENDPOINT or the Hugging Face hub. */
      baseUrl: opt(str),
      /** Folder of downloaded models; empty = the user's cache (~/.cache/llm-lab/models). */
      cacheDir: opt(str),
    }),
    result: obj({
      dir: str,
      files: arr(obj({ name: str, bytes: int({ min: 0 }), alreadyThere: bool, verified: opt(literal('sha256', 'git-oid', 'size')), resumedFrom: opt(int({ min: 0 })) })),
    }),
  },
  /** Trains a byte-level BPE tokenizer on corpus files into `outDir`; pushes `tokenizer/didProgress`. */
  'tokenizer/train': {
    params: obj({
      files: arr(str),
      maxFileBytes: int({ min: 1 }),
      /** Tokens in all: 256 bytes + merges + special tokens. */
      vocabSize: int({ min: 257, max: 1 << 20 }),
      pattern: literal('gpt2', 'gpt4'),
      /** A folder that must not hold a tokenizer yet. */
      outDir: str,
      name: str,
    }),
    result: obj({
      outDir: str,
      vocabSize: int({ min: 0 }),
      merges: int({ min: 0 }),
      files: int({ min: 0 }),
      skipped: int({ min: 0 }),
      seconds: num({ min: 0 }),
      /** Tokens and tokens per character on the training files: the trained tokenizer's and GPT-2's. */
      trained: obj({ tokens: int({ min: 0 }), chars: int({ min: 0 }), tokensPerChar: num({ min: 0 }) }),
      gpt2: obj({ tokens: int({ min: 0 }), chars: int({ min: 0 }), tokensPerChar: num({ min: 0 }) }),
    }),
  },
  /** Attention weights of every layer and head for a short text: layers[l][h] is T×T row-major. */
  attention: {
    params: obj({ modelDir: str, text: str }),
    result: obj({ tokens: arr(str), layers: arr(arr(float32Array)) }),
  },
} satisfies Record<string, { params: Check<unknown>; result: Check<unknown> }>;

export type WorkerMethod = keyof typeof workerRequests;
export type ParamsOf<M extends WorkerMethod> = Infer<(typeof workerRequests)[M]['params']>;
export type ResultOf<M extends WorkerMethod> = Infer<(typeof workerRequests)[M]['result']>;

/** Worker → host pushes while a request runs, named like `train/didEvent`. */
export const workerNotifications = {
  'train/didEvent': trainEventWire,
  'download/didProgress': obj({
    file: str,
    bytes: int({ min: 0 }),
    total: opt(int({ min: 0 })),
    bytesPerSec: opt(num({ min: 0 })),
    etaMs: opt(num({ min: 0 })),
  }),
  'tokenizer/didProgress': obj({ phase: literal('count', 'merge'), done: int({ min: 0 }), total: int({ min: 0 }) }),
  'generate/didToken': obj({
    id: int({ min: 0 }),
    text: str,
    candidates: opt(arr(obj({ id: int({ min: 0 }), text: str, prob: num({ min: 0, max: 1 }) }))),
  }),
} satisfies Record<string, Check<unknown>>;
export type NotificationName = keyof typeof workerNotifications;
export type NotificationOf<N extends NotificationName> = Infer<(typeof workerNotifications)[N]>;

// ---- envelopes ----

export const wireError = obj({ code: str, message: str });
export type WireError = Infer<typeof wireError>;

export const hostToWorker = tagged('kind', {
  request: obj({ id: int({ min: 1 }), method: literal(...(Object.keys(workerRequests) as WorkerMethod[])), params: opt(unknownValue) }),
  cancel: obj({ id: int({ min: 1 }) }),
});
export type HostToWorker = Infer<typeof hostToWorker>;

export const workerToHost = tagged('kind', {
  ready: obj({ pid: int() }),
  response: obj({ id: int({ min: 1 }), result: opt(unknownValue), error: opt(wireError) }),
  notify: obj({
    id: int({ min: 1 }),
    method: literal(...(Object.keys(workerNotifications) as NotificationName[])),
    params: opt(unknownValue),
  }),
});
export type WorkerToHost = Infer<typeof workerToHost>;
