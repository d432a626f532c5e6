// The typed protocol between the extension host and the worker process that runs LLM Lab's jobs.
// Requests go host → worker and get exactly one response; while a request runs, the worker may push
// notifications (`*/did*`) tagged with the request's id; the host may cancel a request by id. Every
// payload has a runtime schema here, checked where it arrives (params in the worker, results and
// notifications in the host). Messages travel over Node's IPC with `serialization: 'advanced'`, so typed
// arrays (attention maps) cross without JSON.
import type { Check, Infer } from './validate';
import { arr, bool, float32Array, int, literal, nullable, num, obj, opt, record, str, tagged, unknownValue } from './validate';

export const ENCODINGS = ['gpt2', 'cl100k_base', 'o200k_base'] as const;
export type EncodingChoice = (typeof ENCODINGS)[number];
const encoding = literal(...ENCODINGS);

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

/** Mirrors core's TrainEvent (src/core/train/events.ts), plus `log` lines from the worker. */
export const trainEvent = tagged('type', {
  start: obj({
    step: int({ min: 0 }),
    totalSteps: int({ min: 0 }),
    resumed: bool,
    parameters: int({ min: 0 }),
    trainableParameters: opt(int({ min: 0 })),
    task: opt(str),
    trainTokens: int({ min: 0 }),
    valTokens: int({ min: 0 }),
    trainWindows: int({ min: 0 }),
    stepsPerEpoch: num({ min: 0 }),
  }),
  step: obj({
    step: int({ min: 0 }),
    totalSteps: int({ min: 0 }),
    loss: num({ allowNonFinite: true }),
    lr: num(),
    gradNorm: opt(num({ allowNonFinite: true })),
    tokensSeen: num({ min: 0 }),
    tokensPerSec: num({ min: 0 }),
    elapsedMs: opt(num({ min: 0 })),
  }),
  eval: obj({
    step: int({ min: 0 }),
    valLoss: num({ allowNonFinite: true }),
    bestValLoss: opt(num({ allowNonFinite: true })),
    metrics: opt(record(num({ allowNonFinite: true }))),
  }),
  sample: obj({ step: int({ min: 0 }), prompt: opt(str), text: str }),
  checkpoint: obj({ step: int({ min: 0 }), dir: str }),
  test: obj({
    step: int({ min: 0 }),
    metrics: record(num({ allowNonFinite: true })),
    confusion: opt(obj({ labels: arr(str), counts: arr(arr(int({ min: 0 }))) })),
  }),
  done: obj({ step: int({ min: 0 }), status: literal('completed', 'cancelled', 'diverged') }),
  log: obj({ message: str }),
});
export type TrainEventWire = Infer<typeof trainEvent>;

const modelInfo = obj({
  dir: str,
  name: str,
  config: obj({
    vocabSize: int(),
    contextLength: int(),
    embDim: int(),
    nHeads: int(),
    nLayers: int(),
    dropRate: num(),
    qkvBias: bool,
    tiedHead: bool,
  }),
  parameters: int({ min: 0 }),
  tokenizer: encoding,
  /** Training step of the checkpoint, when known. */
  step: opt(int({ min: 0 })),
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
});
export type TrainJob = Infer<typeof trainJob>;

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
    params: obj({ text: str, encoding, maxSpans: int({ min: 0 }) }),
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
  'train/start': {
    params: trainJob,
    result: obj({
      runDir: str,
      steps: int({ min: 0 }),
      finalLoss: nullable(num({ allowNonFinite: true })),
      checkpointDir: nullable(str),
      cancelled: bool,
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
  /** Loss and perplexity of the model on a text. */
  evaluate: {
    params: obj({ modelDir: str, text: str }),
    result: obj({ loss: num({ allowNonFinite: true }), perplexity: num({ allowNonFinite: true }), tokens: int({ min: 0 }) }),
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
  'train/didEvent': trainEvent,
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
  request: obj({ id: int({ min: 1 }), method: literal(...(Object.keys(workerRequests) as WorkerMethod[])), params: unknownValue }),
  cancel: obj({ id: int({ min: 1 }) }),
});
export type HostToWorker = Infer<typeof hostToWorker>;

export const workerToHost = tagged('kind', {
  ready: obj({ pid: int() }),
  response: obj({ id: int({ min: 1 }), result: unknownValue, error: opt(wireError) }),
  notify: obj({
    id: int({ min: 1 }),
    method: literal(...(Object.keys(workerNotifications) as NotificationName[])),
    params: unknownValue,
  }),
});
export type WorkerToHost = Infer<typeof workerToHost>;
