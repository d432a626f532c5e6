// A scripted PanelBackend and PanelEditor for the panel session tests: records calls, lets a test emit
// training events and control when generated tokens arrive.
import type { AttentionMaps, DataQuery, GeneratedPiece, GenerateSettings, PanelBackend, PanelEditor, PanelTrainingEvent } from '../../../../src/extension/panel/backend';
import type { ModelInfo } from '../../../../src/protocol/panel';

export class FakeBackend implements PanelBackend {
  calls: string[] = [];
  private trainListeners: Array<(e: PanelTrainingEvent) => void> = [];
  private modelListeners: Array<(i: ModelInfo | null) => void> = [];
  attentionResult: AttentionMaps = { tokens: ['a'], layers: [[new Float32Array([1])]] };
  pieces: GeneratedPiece[] = [];
  /** When set, generation waits on this before each token. */
  gate: (() => Promise<void>) | undefined;
  lastSignal: AbortSignal | undefined;
  info: ModelInfo | null = null;

  onTrainingEvent(l: (e: PanelTrainingEvent) => void) {
    this.trainListeners.push(l);
    return { dispose: () => (this.trainListeners = this.trainListeners.filter((x) => x !== l)) };
  }
  onModelChanged(l: (i: ModelInfo | null) => void) {
    this.modelListeners.push(l);
    return { dispose: () => (this.modelListeners = this.modelListeners.filter((x) => x !== l)) };
  }
  emit(e: PanelTrainingEvent): void {
    for (const l of this.trainListeners) l(e);
  }
  get listenerCount(): number {
    return this.trainListeners.length + this.modelListeners.length;
  }
  async startTraining() {
    this.calls.push('start');
  }
  async stopTraining() {
    this.calls.push('stop');
  }
  async resumeTraining() {
    this.calls.push('resume');
  }
  async attention(text: string, signal: AbortSignal) {
    this.calls.push(`attention:${text}`);
    this.lastSignal = signal;
    return this.attentionResult;
  }
  async *generate(settings: GenerateSettings, signal: AbortSignal): AsyncIterable<GeneratedPiece> {
    this.calls.push(`generate:${settings.prompt}:${settings.maxNewTokens}`);
    this.lastSignal = signal;
    for (const p of this.pieces) {
      if (this.gate) await this.gate();
      if (signal.aborted) throw new Error('Cancelled.');
      yield p;
    }
  }
  async modelInfo() {
    return this.info;
  }
  async dataPreview(q: DataQuery) {
    this.calls.push(`data:${q.maxLength}:${q.stride}:${q.offset}:${q.count}`);
    return { maxLength: q.maxLength, stride: q.stride, totalTokens: 10, totalWindows: 2, offset: q.offset, windows: [] };
  }
}

export class FakeEditor implements PanelEditor {
  selected = '';
  inserted: string[] = [];
  copied: string[] = [];
  selection() {
    return this.selected;
  }
  async insert(text: string) {
    this.inserted.push(text);
  }
  async copy(text: string) {
    this.copied.push(text);
  }
}
