// One lab panel's conversation with the host, without `vscode`: validates every message from the panel,
// routes requests to the backend, holds messages until the panel says `ready` (again after each reload),
// keeps the training history so a reloaded panel catches up, and cancels its work when superseded,
// stopped or disposed.
import type { FromPanel, FromPanelMessage, ToPanel, ToPanelMessage, TrainEval, TrainStep, TrainTest } from '../../protocol/panel';
import { formatQuery } from '../../core/instruct/prompt';
import { LIMITS, parseFromPanel, toPanel } from '../../protocol/panel';
import type { AttentionMaps, PanelBackend, PanelEditor, Subscription } from './backend';

/** Most training points kept per run for replay; older ones are thinned out beyond this. */
const HISTORY_PER_RUN = 20_000;
/** Most non-training messages held while the panel is not ready. */
const QUEUE_LIMIT = 2_000;

export type Post = (m: ToPanelMessage) => unknown;

export class PanelSession {
  private ready = false;
  private queue: ToPanelMessage[] = [];
  private readonly steps = new Map<string, TrainStep[]>();
  private readonly evals = new Map<string, TrainEval[]>();
  /** Each run's test result (the last one reported). */
  private readonly tests = new Map<string, TrainTest>();
  private trainState: ToPanel['train/didChangeState'] = { runId: null, state: 'idle' };
  private readonly jobs = new Map<string, AbortController>();
  private readonly subs: Subscription[] = [];
  private disposed = false;

  constructor(
    private readonly backend: PanelBackend,
    private readonly editor: PanelEditor,
    private readonly post: Post,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.subs.push(
      backend.onTrainingEvent((e) => {
        if (e.type === 'step') {
          const point = stripType(e);
          if (this.record(this.steps, e.runId, point)) this.send('train/didReportStep', point, false);
        } else if (e.type === 'eval') {
          const point = stripType(e);
          if (this.record(this.evals, e.runId, point)) this.send('train/didReportEval', point, false);
        } else if (e.type === 'test') {
          const result = stripType(e);
          this.tests.set(e.runId, result);
          this.send('train/didReportTest', result, false);
        } else {
          this.trainState = { runId: e.runId, state: e.state, ...(e.message !== undefined ? { message: e.message } : {}) };
          this.send('train/didChangeState', this.trainState);
        }
      }),
      backend.onModelChanged((info) => this.send('model/didChange', { info })),
    );
  }

  /** The panel's webview went away (hidden without retained context); hold messages until it is ready again. */
  suspend(): void {
    this.ready = false;
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.jobs.values()) c.abort();
    this.jobs.clear();
    for (const s of this.subs) s.dispose();
    this.queue = [];
  }

  /** Handles one raw message from the webview. */
  receive(raw: unknown): void {
    const parsed = parseFromPanel(raw);
    if (!parsed.ok) {
      this.log(`Ignored a message from the lab panel: ${parsed.error}`);
      return;
    }
    void this.route(parsed.value).catch((e: unknown) => this.send('panel/didFail', { message: errorText(e) }));
  }

  private send<K extends keyof ToPanel>(type: K, body: ToPanel[K], queueIfNotReady = true): void {
    if (this.disposed) return;
    const m = toPanel(type, body);
    if (this.ready) {
      this.post(m);
    } else if (queueIfNotReady) {
      this.queue.push(m);
      if (this.queue.length > QUEUE_LIMIT) this.queue.splice(0, this.queue.length - QUEUE_LIMIT);
    }
  }

  /** Keeps a training point for replay; false when it is one already seen. */
  private record<T extends { step: number }>(store: Map<string, T[]>, runId: string, point: T): boolean {
    let list = store.get(runId);
    if (!list) store.set(runId, (list = []));
    const last = list[list.length - 1];
    if (last && point.step === last.step) return false;
    if (last && point.step < last.step) {
      // A resumed run went back to an earlier checkpoint: forget what came after it.
      const keep = list.filter((p) => p.step < point.step);
      list.length = 0;
      list.push(...keep);
    }
    list.push(point);
    if (list.length > HISTORY_PER_RUN) {
      // Thin the older half so a very long run keeps its shape within the cap.
      const half = list.length >> 1;
      const thinned = list.slice(0, half).filter((_, i) => i % 2 === 0);
      list.splice(0, half, ...thinned);
    }
    return true;
  }

  private job(key: string): AbortController {
    this.jobs.get(key)?.abort();
    const c = new AbortController();
    this.jobs.set(key, c);
    return c;
  }

  private done(key: string, c: AbortController): void {
    if (this.jobs.get(key) === c) this.jobs.delete(key);
  }

  private async route(m: FromPanelMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        return this.onReady();
      case 'train/start':
        return this.backend.startTraining();
      case 'train/stop':
        return this.backend.stopTraining();
      case 'train/resume':
        return this.backend.resumeTraining();
      case 'attention/request':
        return this.attention(m.body);
      case 'editor/requestSelection': {
        const text = this.editor.selection();
        if (text.trim()) this.send('editor/didSelect', { text });
        else this.send('panel/didFail', { message: 'Select some text in an editor first, or type it into the box.' });
        return;
      }
      case 'generate/start':
        return this.generate(m.body);
      case 'generate/stop':
        this.jobs.get(`gen:${m.body.requestId}`)?.abort();
        return;
      case 'model/request':
        this.send('model/didChange', { info: await this.backend.modelInfo() });
        return;
      case 'data/request':
        return this.data(m.body);
      case 'editor/insert':
        return this.editor.insert(m.body.text);
      case 'clipboard/copy':
        return this.editor.copy(m.body.text);
      case 'panel/reportInvalid':
        this.log(`The lab panel refused a message: ${m.body.reason}`);
        return;
    }
  }

  private async onReady(): Promise<void> {
    this.ready = true;
    const steps = [...this.steps.values()].flat();
    const evals = [...this.evals.values()].flat();
    const tests = [...this.tests.values()];
    if (steps.length || evals.length || tests.length) {
      this.post(toPanel('train/didReplay', { steps: steps.slice(-LIMITS.replayPoints), evals: evals.slice(-LIMITS.replayPoints), ...(tests.length ? { tests } : {}) }));
    }
    this.post(toPanel('train/didChangeState', this.trainState));
    const held = this.queue;
    this.queue = [];
    for (const m of held) this.post(m);
    this.send('model/didChange', { info: await this.backend.modelInfo() });
  }

  private async attention(body: FromPanel['attention/request']): Promise<void> {
    const c = this.job('attention');
    try {
      const maps = await this.backend.attention(body.text, c.signal);
      if (c.signal.aborted) return;
      const T = maps.tokens.length;
      if (T > LIMITS.attentionTokens) {
        throw new Error(`That text is ${T} tokens; attention maps show at most ${LIMITS.attentionTokens}. Select a shorter text.`);
      }
      if (T === 0) throw new Error('That text has no tokens; type or select some text first.');
      const mapCount = maps.layers.length * (maps.layers[0]?.length ?? 0);
      if (mapCount * T * T > LIMITS.attentionValues) {
        const most = Math.floor(Math.sqrt(LIMITS.attentionValues / mapCount));
        throw new Error(`That text is ${T} tokens; with ${mapCount} attention maps the panel shows at most ${most} tokens. Select a shorter text.`);
      }
      this.send('attention/didCompute', { requestId: body.requestId, tokens: maps.tokens, weights: toPlain(maps) });
    } catch (e) {
      if (!c.signal.aborted) this.send('panel/didFail', { requestId: body.requestId, message: errorText(e) });
    } finally {
      this.done('attention', c);
    }
  }

  private async generate(req: FromPanel['generate/start']): Promise<void> {
    for (const [k, c] of this.jobs) if (k.startsWith('gen:')) c.abort(); // one generation at a time
    const key = `gen:${req.requestId}`;
    const c = this.job(key);
    const { requestId, promptStyle, input, ...settings } = req;
    try {
      // An instruction in a prompt style becomes the text the model was fine-tuned on, up to its response header.
      if (promptStyle) settings.prompt = formatQuery(promptStyle, { instruction: settings.prompt, input: input ?? '' });
      this.send('generate/didStart', { requestId, prompt: settings.prompt });
      for await (const t of this.backend.generate(settings, c.signal)) {
        if (c.signal.aborted) break;
        this.send('generate/didStreamToken', { requestId, id: t.id, text: t.text, ...(t.candidates ? { candidates: t.candidates } : {}) });
      }
      this.send('generate/didFinish', { requestId, reason: c.signal.aborted ? 'stopped' : 'done' });
    } catch (e) {
      if (c.signal.aborted) this.send('generate/didFinish', { requestId, reason: 'stopped' });
      else this.send('generate/didFinish', { requestId, reason: 'error', message: errorText(e) });
    } finally {
      this.done(key, c);
    }
  }

  private async data(body: FromPanel['data/request']): Promise<void> {
    const c = this.job('data');
    try {
      const { requestId, ...query } = body;
      const preview = await this.backend.dataPreview(query, c.signal);
      if (!c.signal.aborted) this.send('data/didPreview', { ...preview, requestId });
    } catch (e) {
      if (!c.signal.aborted) this.send('panel/didFail', { requestId: body.requestId, message: errorText(e) });
    } finally {
      this.done('data', c);
    }
  }
}

function stripType<T extends { type: string }>(e: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = e;
  return rest;
}

/** Typed arrays to plain lists for JSON: weights clamped to [0, 1] and rounded to the 4 decimals shown. */
function toPlain(maps: AttentionMaps): number[][][] {
  return maps.layers.map((heads) => heads.map((m) => Array.from(m, (w) => (w <= 0 ? 0 : w >= 1 ? 1 : Math.round(w * 1e4) / 1e4))));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
