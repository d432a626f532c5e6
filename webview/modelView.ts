// The Model tab: the loaded model's configuration, parameter count, memory needs, compute backend,
// checkpoint folder and tokenizer; for a fine-tuned model also its task, a classifier's classes, what its
// fine-tuning trained, an instruction model's prompt style and a LoRA adapter's base.
import type { ModelInfo } from '../src/protocol/panel';
import { button, clear, el, fmt } from './dom';

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function pct(part: number, whole: number): string {
  const p = whole > 0 ? (100 * part) / whole : 0;
  return `${p < 1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

export class ModelView {
  readonly root: HTMLElement;
  private readonly table = el('table', { id: 'model-table', class: 'stats' });
  info: ModelInfo | null = null;

  constructor(refresh: () => void) {
    this.root = el('section', { class: 'view', 'aria-label': 'Model' }, el('div', { class: 'toolbar' }, button('model-refresh', 'Refresh', refresh, true)), this.table);
    this.show(null);
  }

  show(info: ModelInfo | null): void {
    this.info = info;
    clear(this.table);
    if (!info) {
      this.table.append(el('caption', {}, 'No model loaded. Create or open one with the LLM Lab commands.'));
      return;
    }
    const c = info.config;
    const rows: Array<[string, string]> = [
      ['Name', info.name],
      ...(info.task ? [['Task', info.task] as [string, string]] : []),
      ...(info.classes ? [['Classes', `${info.classes.length}: ${info.classes.join(', ')}`] as [string, string]] : []),
      ...(info.trained ? [['Trained', `${info.trained.what} (${fmt(info.trained.parameters)} of ${fmt(info.trained.of)} parameters, ${pct(info.trained.parameters, info.trained.of)})`] as [string, string]] : []),
      ...(info.promptStyle ? [['Prompt style', info.promptStyle] as [string, string]] : []),
      ...(info.adapterBase ? [['LoRA base model', info.adapterBase] as [string, string]] : []),
      ['Parameters', fmt(info.parameters)],
      ['Layers', String(c.nLayers)],
      ['Heads', String(c.nHeads)],
      ['Embedding width', String(c.embDim)],
      ['Context length', String(c.contextLength)],
      ['Vocabulary', fmt(c.vocabSize)],
      ['Dropout', String(c.dropRate)],
      ['QKV bias', c.qkvBias ? 'yes' : 'no'],
      ['Tied output head', c.tiedHead ? 'yes' : 'no'],
      ['Weights memory', bytes(info.memory.weightsBytes)],
      ['Training memory (est.)', bytes(info.memory.trainingBytes)],
      ['Inference memory (est.)', bytes(info.memory.inferenceBytes)],
      ['Backend', info.backend],
      ['Checkpoint', info.checkpointPath ?? 'not saved yet'],
      ['Tokenizer', info.tokenizer],
    ];
    this.table.append(el('caption', {}, 'Model'));
    const body = el('tbody');
    for (const [k, v] of rows) body.append(el('tr', { 'data-key': k.toLowerCase().replace(/\W+/g, '-') }, el('th', { scope: 'row' }, k), el('td', {}, v)));
    this.table.append(body);
  }
}
