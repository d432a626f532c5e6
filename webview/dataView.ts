// The Data tab: the sliding-window view of the training data. For a max length and stride, each window
// shows the input token ids and text beside the targets (the same tokens shifted by one), so a user
// sees exactly what the model is asked to predict.
import type { DataPreview } from '../src/protocol/panel';
import { button, clear, el, field, valueOf } from './dom';
import { tokenLabel } from './heatmap';

export interface DataSaved {
  maxLength: string;
  stride: string;
  offset: string;
}

export class DataView {
  readonly root: HTMLElement;
  private readonly maxLength = field('data-max-length', 'Max length', 8);
  private readonly stride = field('data-stride', 'Stride', 8);
  private readonly offset = field('data-offset', 'First window', 0);
  private readonly status = el('span', { id: 'data-status', class: 'muted', role: 'status' });
  private readonly list = el('div', { id: 'data-windows' });

  constructor(private readonly request: (maxLength: number, stride: number, offset: number) => void) {
    this.root = el(
      'section',
      { class: 'view', 'aria-label': 'Data' },
      el('div', { class: 'fields' }, this.maxLength.row, this.stride.row, this.offset.row),
      el('div', { class: 'toolbar' }, button('data-show', 'Show windows', () => this.ask()), this.status),
      this.list,
    );
  }

  private ask(): void {
    const m = Number(valueOf(this.maxLength.input));
    const s = Number(valueOf(this.stride.input));
    const o = Number(valueOf(this.offset.input));
    if (!Number.isInteger(m) || m < 1 || m > 4096) return void (this.status.textContent = 'Max length must be a whole number from 1 to 4096.');
    if (!Number.isInteger(s) || s < 1) return void (this.status.textContent = 'Stride must be a whole number of at least 1.');
    if (!Number.isInteger(o) || o < 0) return void (this.status.textContent = 'First window must be a whole number of at least 0.');
    this.status.textContent = 'Loading…';
    this.request(m, s, o);
  }

  fail(message: string): void {
    this.status.textContent = message;
  }

  show(p: DataPreview): void {
    this.status.textContent = `${p.source ? `${p.source}: ` : ''}${p.totalTokens.toLocaleString('en-US')} tokens make ${p.totalWindows.toLocaleString('en-US')} windows of ${p.maxLength} with stride ${p.stride}; showing ${p.windows.length} from window ${p.offset}.`;
    clear(this.list);
    for (const w of p.windows) {
      const table = el('table', { class: 'window', 'aria-label': `Window ${w.index}` });
      table.append(el('caption', {}, `Window ${w.index}`));
      table.append(el('thead', {}, el('tr', {}, ...['Position', 'Input id', 'Input token', 'Target id', 'Target token'].map((t) => el('th', { scope: 'col' }, t)))));
      const body = el('tbody');
      for (let k = 0; k < w.inputIds.length; k++) {
        body.append(
          el('tr', {}, el('td', {}, String(k)), el('td', {}, String(w.inputIds[k])), el('td', {}, el('code', {}, tokenLabel(w.inputTokens[k], 24))), el('td', {}, String(w.targetIds[k])), el('td', {}, el('code', {}, tokenLabel(w.targetTokens[k], 24)))),
        );
      }
      table.append(body);
      const text = el('p', { class: 'window-text' }, `Input: ${w.inputTokens.join('')} → target: ${w.targetTokens.join('')}`);
      this.list.append(table, text);
    }
  }

  save(): DataSaved {
    return { maxLength: valueOf(this.maxLength.input), stride: valueOf(this.stride.input), offset: valueOf(this.offset.input) };
  }

  restore(s: Partial<DataSaved> | undefined): void {
    if (!s) return;
    for (const [k, f] of [['maxLength', this.maxLength], ['stride', this.stride], ['offset', this.offset]] as const) {
      const v = s[k];
      if (typeof v === 'string') (f.input as HTMLInputElement).value = v;
    }
  }
}
