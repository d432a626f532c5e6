// Messages between the extension host and the lab panel (webview), named by direction: `ToPanel` are
// host-to-panel pushes (`did*` events), `FromPanel` are the panel's requests. Every message is a
// `{ type, body }` envelope; each body is declared once as a checker below and its type is inferred from
// it, and both sides validate what arrives with parseToPanel / parseFromPanel. Training points reuse the
// checkers of core's training events (./training), the model's configuration those of ./model.
import { gptConfig, promptStyle } from './model';
import { evalFields, RUN_STATES, stepFields } from './training';
import type { Check, Infer, InferAll, Parsed } from './validate';
import { arr, int, literal, nullable, num, obj, opt, parseEnvelope, pick, record, refine, text } from './validate';

export type { RunState } from './training';

/** Limits that keep one message small enough for the editor to pass along. */
export const LIMITS = {
  textChars: 200_000,
  maxNewTokens: 4096,
  attentionTokens: 1024,
  /**
   * Weights in one attention message (layers × heads × T²), sent rounded to 4 decimals as JSON (about
   * 12 MB at most): GPT-2 small's 144 maps fit 117 tokens, the tiny preset's 4 maps 707.
   */
  attentionValues: 2_000_000,
  replayPoints: 200_000,
  /** Classes of a classifier the panel shows (labels and confusion matrix rows). */
  classes: 200,
  previewWindows: 64,
  windowLength: 4096,
  candidates: 20,
} as const;

/** The panel's messages carry exactly their declared fields; anything else is refused. */
const strict = <S extends Record<string, Check<unknown>>>(shape: S) => obj(shape, { extra: 'refuse' });

const id = text(200);
const count = int({ min: 0 });
const message = text(2000);
const empty = strict({});

/** One optimizer step of a run, as the charts plot it (a point with a NaN loss is not sent). */
const trainStep = strict({
  runId: id,
  ...pick(stepFields, 'step', 'totalSteps', 'lr', 'tokensSeen', 'tokensPerSec'),
  loss: num(),
});
export type TrainStep = Infer<typeof trainStep>;

/** A task's named measures (accuracy, …); only finite values are sent. */
const metrics = record(num());

/**
 * A validation pass of a run, with the tokens seen by its step (for the tokens axis) and the task's other
 * measures at that step (a classifier's `trainAccuracy`, `valAccuracy`, `trainLoss`).
 */
const trainEval = strict({ runId: id, ...pick(evalFields, 'step'), valLoss: num(), tokensSeen: count, metrics: opt(metrics) });
export type TrainEval = Infer<typeof trainEval>;

/** counts[i][j]: test rows of class labels[i] predicted as labels[j] (rows actual, columns predicted). */
const confusion = refine(
  strict({ labels: arr(text(200), { max: LIMITS.classes }), counts: arr(arr(count, { max: LIMITS.classes }), { max: LIMITS.classes }) }),
  (v) => {
    const n = v.labels.length;
    if (n === 0) return 'labels: empty';
    if (v.counts.length !== n) return `counts: expected ${n} rows, one per label`;
    const bad = v.counts.findIndex((row) => row.length !== n);
    return bad >= 0 ? `counts[${bad}]: expected ${n} columns, one per label` : null;
  },
);
export type Confusion = Infer<typeof confusion>;

/** A run's measures on its held-out test split, at the end of a fine-tuning run. */
const trainTest = strict({ runId: id, step: count, metrics, confusion: opt(confusion) });
export type TrainTest = Infer<typeof trainTest>;

const candidate = strict({ id: count, text: text(1000), prob: num({ min: 0, max: 1 }) });
export type Candidate = Infer<typeof candidate>;

/** What the Model tab shows. */
const modelInfo = strict({
  name: text(500),
  config: gptConfig,
  parameters: count,
  memory: strict({ weightsBytes: count, trainingBytes: count, inferenceBytes: count }),
  backend: text(200),
  checkpointPath: nullable(text(4096)),
  tokenizer: text(200),
  /** What the model does: 'language model', 'classifier', 'instruction-tuned', a LoRA adapter's task. */
  task: opt(text(200)),
  /** A classifier's classes, in the order of its output logits. */
  classes: opt(arr(text(200), { max: LIMITS.classes })),
  /** What its fine-tuning trained, e.g. "last block, final norm and head" or "LoRA rank 8 on query, value", and how many values. */
  trained: opt(strict({ what: text(1000), parameters: count, of: count })),
  /** An instruction-tuned model's prompt style (the playground formats prompts with it). */
  promptStyle: opt(promptStyle),
  /** A LoRA adapter's base model folder. */
  adapterBase: opt(text(4096)),
});
export type ModelInfo = Infer<typeof modelInfo>;

const weight = num({ min: 0, max: 1 });

/** Attention weights of one text: weights[layer][head] is a T×T row-major matrix (query row, key column). */
const attention = refine(
  strict({
    requestId: id,
    tokens: arr(text(1000), { max: LIMITS.attentionTokens }),
    weights: arr(arr(arr(weight, { max: LIMITS.attentionTokens ** 2 }), { max: 256 }), { max: 256 }),
  }),
  // Every layer has the same heads, and every head is a T×T matrix for T tokens.
  (v) => {
    const T = v.tokens.length;
    if (T === 0) return 'tokens: empty';
    if (v.weights.length === 0) return 'weights: no layers';
    const heads = v.weights[0].length;
    if (v.weights.length * heads * T * T > LIMITS.attentionValues) {
      return `weights: more than ${LIMITS.attentionValues} values; use a shorter text`;
    }
    for (let l = 0; l < v.weights.length; l++) {
      const layer = v.weights[l];
      if (layer.length !== heads || heads === 0) return `weights[${l}]: expected ${heads || 'some'} heads`;
      for (let h = 0; h < heads; h++) {
        if (layer[h].length !== T * T) return `weights[${l}][${h}]: expected ${T * T} values for ${T} tokens`;
      }
    }
    return null;
  },
);
export type AttentionResult = Infer<typeof attention>;

const tokenIds = arr(count, { max: LIMITS.windowLength });
const tokenTexts = arr(text(1000), { max: LIMITS.windowLength });

/** One training window: the model reads `inputIds` and learns to predict `targetIds` (shifted by one). */
const dataWindow = strict({ index: count, inputIds: tokenIds, targetIds: tokenIds, inputTokens: tokenTexts, targetTokens: tokenTexts });
export type DataWindow = Infer<typeof dataWindow>;

const dataPreview = refine(
  strict({
    requestId: id,
    /** Where the tokens come from, e.g. "the-verdict.txt" or "3 files of run tiny-1". */
    source: opt(text(1000)),
    maxLength: int({ min: 1 }),
    stride: int({ min: 1 }),
    totalTokens: count,
    totalWindows: count,
    offset: count,
    windows: arr(dataWindow, { max: LIMITS.previewWindows }),
  }),
  (v) => {
    for (let i = 0; i < v.windows.length; i++) {
      const w = v.windows[i];
      const n = w.inputIds.length;
      if (w.targetIds.length !== n || w.inputTokens.length !== n || w.targetTokens.length !== n) {
        return `windows[${i}]: input and target lists differ in length`;
      }
    }
    return null;
  },
);
export type DataPreview = Infer<typeof dataPreview>;

const generateRequest = refine(
  strict({
    requestId: id,
    prompt: text(LIMITS.textChars),
    maxNewTokens: int({ min: 1, max: LIMITS.maxNewTokens }),
    temperature: num({ min: 0, max: 10 }),
    topK: opt(int({ min: 1 })),
    topP: opt(num({ min: 0, max: 1 })),
    seed: opt(int({ min: 0, max: 2 ** 32 - 1 })),
    /** How many top candidates to report per token; 0 for none. */
    topCandidates: int({ min: 0, max: LIMITS.candidates }),
    /** Format `prompt` as an instruction (and `input`) in this prompt style before generating. */
    promptStyle: opt(promptStyle),
    input: opt(text(LIMITS.textChars)),
  }),
  (v) => (v.topP !== undefined && v.topP <= 0 ? 'topP: must be above 0 (1 keeps every token)' : null),
);
export type GenerateRequest = Infer<typeof generateRequest>;

const toPanelSchemas = {
  'train/didReportStep': trainStep,
  'train/didReportEval': trainEval,
  'train/didReportTest': trainTest,
  /** The host's history of all runs, sent after each `ready` so a reloaded panel catches up. */
  'train/didReplay': strict({
    steps: arr(trainStep, { max: LIMITS.replayPoints }),
    evals: arr(trainEval, { max: LIMITS.replayPoints }),
    tests: opt(arr(trainTest, { max: 1000 })),
  }),
  'train/didChangeState': strict({ runId: nullable(id), state: literal(...RUN_STATES), message: opt(message) }),
  'attention/didCompute': attention,
  /** The exact text the model continues (the prompt formatted in its style, when one was asked for). */
  'generate/didStart': strict({ requestId: id, prompt: text(LIMITS.textChars + 10_000) }),
  'generate/didStreamToken': strict({ requestId: id, id: count, text: text(1000), candidates: opt(arr(candidate, { max: LIMITS.candidates })) }),
  'generate/didFinish': strict({ requestId: id, reason: literal('done', 'stopped', 'error'), message: opt(message) }),
  'model/didChange': strict({ info: nullable(modelInfo) }),
  'data/didPreview': dataPreview,
  'editor/didSelect': strict({ text: text(LIMITS.textChars) }),
  'panel/didFail': strict({ requestId: opt(id), message }),
};

const fromPanelSchemas = {
  ready: empty,
  'train/start': empty,
  'train/stop': empty,
  'train/resume': empty,
  'attention/request': strict({ requestId: id, text: text(LIMITS.textChars) }),
  'editor/requestSelection': empty,
  'generate/start': generateRequest,
  'generate/stop': strict({ requestId: id }),
  'model/request': empty,
  'data/request': strict({
    requestId: id,
    maxLength: int({ min: 1, max: LIMITS.windowLength }),
    stride: int({ min: 1 }),
    offset: count,
    count: int({ min: 1, max: LIMITS.previewWindows }),
  }),
  'editor/insert': strict({ text: text(LIMITS.textChars) }),
  'clipboard/copy': strict({ text: text(LIMITS.textChars) }),
  /** The panel refused a host message; the host logs the reason. */
  'panel/reportInvalid': strict({ reason: message }),
};

export type ToPanel = InferAll<typeof toPanelSchemas>;
export type FromPanel = InferAll<typeof fromPanelSchemas>;
export type Envelope<M> = { [K in keyof M]: { type: K; body: M[K] } }[keyof M];
export type ToPanelMessage = Envelope<ToPanel>;
export type FromPanelMessage = Envelope<FromPanel>;

/** Validates a message the panel received from the host. */
export function parseToPanel(raw: unknown): Parsed<ToPanelMessage> {
  return parseEnvelope(raw, toPanelSchemas, 'Host');
}

/** Validates a message the host received from the panel. */
export function parseFromPanel(raw: unknown): Parsed<FromPanelMessage> {
  return parseEnvelope(raw, fromPanelSchemas, 'Panel');
}

/** Builds a typed host-to-panel envelope. */
export function toPanel<K extends keyof ToPanel>(type: K, body: ToPanel[K]): ToPanelMessage {
  return { type, body } as ToPanelMessage;
}

/** Builds a typed panel-to-host envelope. */
export function fromPanel<K extends keyof FromPanel>(type: K, body: FromPanel[K]): FromPanelMessage {
  return { type, body } as FromPanelMessage;
}
