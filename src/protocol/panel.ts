// Messages between the extension host and the lab panel (webview), named by direction: `ToPanel` are
// host-to-panel pushes (`did*` events), `FromPanel` are the panel's requests. Every message is a
// `{ type, body }` envelope and both sides validate what arrives with parseToPanel / parseFromPanel.
import type { Check, Parsed } from './check';
import { arr, bool, literal, nullable, num, obj, parseEnvelope, refine, str } from './check';

export type TrainState = 'idle' | 'running' | 'stopping' | 'stopped' | 'finished' | 'failed';

/** One optimizer step of a run. */
export interface TrainStep {
  runId: string;
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  tokensSeen: number;
  tokensPerSec: number;
}

/** A validation pass of a run. */
export interface TrainEval {
  runId: string;
  step: number;
  valLoss: number;
  tokensSeen: number;
}

/** What the Model tab shows. */
export interface ModelInfo {
  name: string;
  config: {
    vocabSize: number;
    contextLength: number;
    embDim: number;
    nHeads: number;
    nLayers: number;
    dropRate: number;
    qkvBias: boolean;
    tiedHead: boolean;
  };
  parameters: number;
  memory: { weightsBytes: number; trainingBytes: number; inferenceBytes: number };
  backend: string;
  checkpointPath: string | null;
  tokenizer: string;
}

/** Attention weights of one text: weights[layer][head] is a T×T row-major matrix (query row, key column). */
export interface AttentionResult {
  requestId: string;
  tokens: string[];
  weights: number[][][];
}

export interface Candidate {
  id: number;
  text: string;
  prob: number;
}

export interface GenerateRequest {
  requestId: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** How many top candidates to report per token; 0 for none. */
  topCandidates: number;
}

/** One training window: the model reads `inputIds` and learns to predict `targetIds` (shifted by one). */
export interface DataWindow {
  index: number;
  inputIds: number[];
  targetIds: number[];
  inputTokens: string[];
  targetTokens: string[];
}

export interface DataPreview {
  requestId: string;
  /** Where the tokens come from, e.g. "the-verdict.txt" or "3 files of run tiny-1". */
  source?: string;
  maxLength: number;
  stride: number;
  totalTokens: number;
  totalWindows: number;
  offset: number;
  windows: DataWindow[];
}

export interface ToPanel {
  'train/didReportStep': TrainStep;
  'train/didReportEval': TrainEval;
  /** The host's history of all runs, sent after each `ready` so a reloaded panel catches up. */
  'train/didReplay': { steps: TrainStep[]; evals: TrainEval[] };
  'train/didChangeState': { runId: string | null; state: TrainState; message?: string };
  'attention/didCompute': AttentionResult;
  'generate/didStreamToken': { requestId: string; id: number; text: string; candidates?: Candidate[] };
  'generate/didFinish': { requestId: string; reason: 'done' | 'stopped' | 'error'; message?: string };
  'model/didChange': { info: ModelInfo | null };
  'data/didPreview': DataPreview;
  'editor/didSelect': { text: string };
  'panel/didFail': { requestId?: string; message: string };
}

export interface FromPanel {
  ready: Record<string, never>;
  'train/start': Record<string, never>;
  'train/stop': Record<string, never>;
  'train/resume': Record<string, never>;
  'attention/request': { requestId: string; text: string };
  'editor/requestSelection': Record<string, never>;
  'generate/start': GenerateRequest;
  'generate/stop': { requestId: string };
  'model/request': Record<string, never>;
  'data/request': { requestId: string; maxLength: number; stride: number; offset: number; count: number };
  'editor/insert': { text: string };
  'clipboard/copy': { text: string };
  /** The panel refused a host message; the host logs the reason. */
  'panel/reportInvalid': { reason: string };
}

export type Envelope<M> = { [K in keyof M]: { type: K; body: M[K] } }[keyof M];
export type ToPanelMessage = Envelope<ToPanel>;
export type FromPanelMessage = Envelope<FromPanel>;

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
  previewWindows: 64,
  windowLength: 4096,
  candidates: 20,
} as const;

const id = str(200);
const count = num({ min: 0, int: true });
const empty = obj({});

const step = obj({
  runId: id,
  step: count,
  totalSteps: count,
  loss: num(),
  lr: num({ min: 0 }),
  tokensSeen: count,
  tokensPerSec: num({ min: 0 }),
});
const evalPoint = obj({ runId: id, step: count, valLoss: num(), tokensSeen: count });
const candidate = obj({ id: count, text: str(1000), prob: num({ min: 0, max: 1 }) });
const tokenIds = arr(count, LIMITS.windowLength);
const tokenTexts = arr(str(1000), LIMITS.windowLength);

const modelInfo = obj({
  name: str(500),
  config: obj({
    vocabSize: num({ min: 1, int: true }),
    contextLength: num({ min: 1, int: true }),
    embDim: num({ min: 1, int: true }),
    nHeads: num({ min: 1, int: true }),
    nLayers: num({ min: 1, int: true }),
    dropRate: num({ min: 0, max: 1 }),
    qkvBias: bool,
    tiedHead: bool,
  }),
  parameters: count,
  memory: obj({ weightsBytes: count, trainingBytes: count, inferenceBytes: count }),
  backend: str(200),
  checkpointPath: nullable(str(4096)),
  tokenizer: str(200),
});

/** Every layer has the same heads, and every head is a T×T matrix of weights in [0, 1] for T tokens. */
function attentionShape(v: AttentionResult, p: string): string | null {
  const T = v.tokens.length;
  if (T === 0) return `${p}.tokens: empty`;
  if (v.weights.length === 0) return `${p}.weights: no layers`;
  const heads = v.weights[0].length;
  if (v.weights.length * heads * T * T > LIMITS.attentionValues) {
    return `${p}.weights: more than ${LIMITS.attentionValues} values; use a shorter text`;
  }
  for (let l = 0; l < v.weights.length; l++) {
    const layer = v.weights[l];
    if (layer.length !== heads || heads === 0) return `${p}.weights[${l}]: expected ${heads || 'some'} heads`;
    for (let h = 0; h < heads; h++) {
      const m = layer[h];
      if (m.length !== T * T) return `${p}.weights[${l}][${h}]: expected ${T * T} values for ${T} tokens`;
    }
  }
  return null;
}

const weight = num({ min: 0, max: 1 });
const attention = refine(
  obj({
    requestId: id,
    tokens: arr(str(1000), LIMITS.attentionTokens),
    weights: arr(arr(arr(weight, LIMITS.attentionTokens ** 2), 256), 256),
  }),
  attentionShape,
);

function windowShape(v: DataPreview, p: string): string | null {
  for (let i = 0; i < v.windows.length; i++) {
    const w = v.windows[i];
    const n = w.inputIds.length;
    if (w.targetIds.length !== n || w.inputTokens.length !== n || w.targetTokens.length !== n) {
      return `${p}.windows[${i}]: input and target lists differ in length`;
    }
  }
  return null;
}

const dataPreview = refine(
  obj(
    {
      requestId: id,
      maxLength: num({ min: 1, int: true }),
      stride: num({ min: 1, int: true }),
      totalTokens: count,
      totalWindows: count,
      offset: count,
      windows: arr(
        obj({ index: count, inputIds: tokenIds, targetIds: tokenIds, inputTokens: tokenTexts, targetTokens: tokenTexts }),
        LIMITS.previewWindows,
      ),
    },
    { source: str(1000) },
  ),
  windowShape,
);

const toPanelSchemas: Record<keyof ToPanel, Check> = {
  'train/didReportStep': step,
  'train/didReportEval': evalPoint,
  'train/didReplay': obj({ steps: arr(step, LIMITS.replayPoints), evals: arr(evalPoint, LIMITS.replayPoints) }),
  'train/didChangeState': obj(
    { runId: nullable(id), state: literal('idle', 'running', 'stopping', 'stopped', 'finished', 'failed') },
    { message: str(2000) },
  ),
  'attention/didCompute': attention,
  'generate/didStreamToken': obj(
    { requestId: id, id: count, text: str(1000) },
    { candidates: arr(candidate, LIMITS.candidates) },
  ),
  'generate/didFinish': obj({ requestId: id, reason: literal('done', 'stopped', 'error') }, { message: str(2000) }),
  'model/didChange': obj({ info: nullable(modelInfo) }),
  'data/didPreview': dataPreview,
  'editor/didSelect': obj({ text: str(LIMITS.textChars) }),
  'panel/didFail': obj({ message: str(2000) }, { requestId: id }),
};

function samplingRange(v: GenerateRequest, p: string): string | null {
  if (v.topP !== undefined && v.topP <= 0) return `${p}.topP: must be above 0 (1 keeps every token)`;
  return null;
}

const fromPanelSchemas: Record<keyof FromPanel, Check> = {
  ready: empty,
  'train/start': empty,
  'train/stop': empty,
  'train/resume': empty,
  'attention/request': obj({ requestId: id, text: str(LIMITS.textChars) }),
  'editor/requestSelection': empty,
  'generate/start': refine(
    obj(
      {
        requestId: id,
        prompt: str(LIMITS.textChars),
        maxNewTokens: num({ min: 1, max: LIMITS.maxNewTokens, int: true }),
        temperature: num({ min: 0, max: 10 }),
        topCandidates: num({ min: 0, max: LIMITS.candidates, int: true }),
      },
      { topK: num({ min: 1, int: true }), topP: num({ min: 0, max: 1 }), seed: num({ min: 0, max: 2 ** 32 - 1, int: true }) },
    ),
    samplingRange,
  ),
  'generate/stop': obj({ requestId: id }),
  'model/request': empty,
  'data/request': obj({
    requestId: id,
    maxLength: num({ min: 1, max: LIMITS.windowLength, int: true }),
    stride: num({ min: 1, int: true }),
    offset: count,
    count: num({ min: 1, max: LIMITS.previewWindows, int: true }),
  }),
  'editor/insert': obj({ text: str(LIMITS.textChars) }),
  'clipboard/copy': obj({ text: str(LIMITS.textChars) }),
  'panel/reportInvalid': obj({ reason: str(2000) }),
};

/** Validates a message the panel received from the host. */
export function parseToPanel(raw: unknown): Parsed<ToPanelMessage> {
  return parseEnvelope<ToPanelMessage>(raw, toPanelSchemas, 'Host');
}

/** Validates a message the host received from the panel. */
export function parseFromPanel(raw: unknown): Parsed<FromPanelMessage> {
  return parseEnvelope<FromPanelMessage>(raw, fromPanelSchemas, 'Panel');
}

/** Builds a typed host-to-panel envelope. */
export function toPanel<K extends keyof ToPanel>(type: K, body: ToPanel[K]): ToPanelMessage {
  return { type, body } as ToPanelMessage;
}

/** Builds a typed panel-to-host envelope. */
export function fromPanel<K extends keyof FromPanel>(type: K, body: FromPanel[K]): FromPanelMessage {
  return { type, body } as FromPanelMessage;
}
