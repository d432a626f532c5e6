// The Attention tab: for a text (typed in, or the editor selection), a grid of small maps, one per layer
// and head plus each layer's average over heads, and one large map of the chosen one with the tokens as
// axis labels. Hovering a cell, or moving over the large map with the arrow keys, tells the query and
// key tokens and the weight.
import type { AttentionResult } from '../src/protocol/panel';
import { button, clear, el, setValue, valueOf } from './dom';
import type { HeatmapStyle } from './heatmap';
import { averageHeads, blit, maskColor, matrixImage, tokenLabel } from './heatmap';
import { readPalette, rgb } from './theme';

export interface AttentionSaved {
  text: string;
  layer: number;
  /** -1 for the average over heads. */
  head: number;
  result: AttentionResult | null;
}

export interface AttentionActions {
  request(text: string): void;
  useSelection(): void;
  changed(): void;
}

const SMALL = 64;
const LABEL = 90;

export class AttentionView {
  readonly root: HTMLElement;
  private readonly text = el('vscode-textarea', { id: 'attn-text', 'aria-label': 'Text to look at', rows: 3, resize: 'vertical' });
  private readonly grid = el('div', { class: 'attn-grid', id: 'attn-grid' });
  private readonly big = el<HTMLCanvasElement>('canvas', { id: 'attn-big', tabindex: 0, role: 'img', 'aria-label': 'Attention map' });
  private readonly title = el('h3', { id: 'attn-title' }, 'No attention map yet');
  private readonly tooltip = el('div', { id: 'attn-tooltip', class: 'tooltip', hidden: true });
  private readonly readout = el('div', { id: 'attn-readout', role: 'status', 'aria-live': 'polite', class: 'muted' });
  private readonly status = el('span', { id: 'attn-status', class: 'muted', role: 'status' });
  private result: AttentionResult | null = null;
  private layer = 0;
  private head = 0;
  private cell = 0;
  private focus: [number, number] = [0, 0];
  /** True once the arrow keys were used: the focused cell gets an outline. */
  private keyboard = false;
  private averages: Float32Array[] = [];

  constructor(private readonly actions: AttentionActions) {
    this.root = el(
      'section',
      { class: 'view', 'aria-label': 'Attention' },
      el('vscode-label', { for: 'attn-text' }, 'Text'),
      this.text,
      el(
        'div',
        { class: 'toolbar' },
        button('attn-show', 'Show attention', () => this.ask()),
        button('attn-selection', 'Use editor selection', () => actions.useSelection(), true),
        this.status,
      ),
      el('div', { class: 'attn-layout' }, this.grid, el('div', { class: 'attn-main' }, this.title, el('div', { class: 'canvas-box' }, this.big, this.tooltip), this.readout)),
    );
    this.big.addEventListener('mousemove', (e) => this.hover(e));
    this.big.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    this.big.addEventListener('blur', () => {
      this.keyboard = false;
      if (this.result) this.renderBig(this.result);
    });
    this.big.addEventListener('keydown', (e) => this.key(e));
    this.text.addEventListener('input', () => actions.changed());
  }

  private ask(): void {
    const t = valueOf(this.text);
    if (!t.trim()) {
      this.status.textContent = 'Type a text or use the editor selection first.';
      return;
    }
    this.status.textContent = 'Computing…';
    this.actions.request(t);
  }

  /** A selection arrived from the editor: show it and ask for its maps. */
  setText(t: string): void {
    setValue(this.text, t);
    this.ask();
  }

  fail(message: string): void {
    this.status.textContent = message;
  }

  show(r: AttentionResult): void {
    this.result = r;
    this.averages = r.weights.map((heads) => averageHeads(heads));
    if (this.layer >= r.weights.length) this.layer = 0;
    if (this.head >= r.weights[0].length) this.head = 0;
    this.focus = [0, 0];
    this.status.textContent = `${r.tokens.length} tokens, ${r.weights.length} layers × ${r.weights[0].length} heads`;
    this.render();
    this.actions.changed();
  }

  /** Redraws with the current theme. */
  render(): void {
    if (this.result) {
      this.renderGrid(this.result);
      this.renderBig(this.result);
    }
  }

  private style(): HeatmapStyle {
    const p = readPalette();
    return { background: p.background, hot: p.hot, mask: maskColor(p.background, p.mask) };
  }

  private matrix(layer: number, head: number): ArrayLike<number> {
    const r = this.result;
    if (!r) return [];
    return head < 0 ? this.averages[layer] : r.weights[layer][head];
  }

  private select(layer: number, head: number): void {
    this.layer = layer;
    this.head = head;
    if (this.result) this.renderBig(this.result);
    for (const c of this.grid.querySelectorAll('[aria-pressed]')) {
      c.setAttribute('aria-pressed', String(c.id === `attn-small-${layer}-${head < 0 ? 'avg' : head}`));
    }
    this.actions.changed();
  }

  private renderGrid(r: AttentionResult): void {
    clear(this.grid);
    const style = this.style();
    const T = r.tokens.length;
    const heads = r.weights[0].length;
    const head = el('div', { class: 'attn-row' }, el('span', { class: 'attn-rowlabel' }, ''));
    for (let h = 0; h < heads; h++) head.append(el('span', { class: 'attn-collabel' }, `h${h}`));
    head.append(el('span', { class: 'attn-collabel' }, 'avg'));
    this.grid.append(head);
    for (let l = 0; l < r.weights.length; l++) {
      const row = el('div', { class: 'attn-row' }, el('span', { class: 'attn-rowlabel' }, `L${l}`));
      for (let h = 0; h <= heads; h++) {
        const hh = h === heads ? -1 : h;
        const name = hh < 0 ? `Layer ${l}, average of heads` : `Layer ${l}, head ${hh}`;
        const c = el<HTMLCanvasElement>('canvas', {
          id: `attn-small-${l}-${hh < 0 ? 'avg' : hh}`,
          class: 'attn-small',
          width: SMALL,
          height: SMALL,
          tabindex: 0,
          role: 'button',
          'aria-label': name,
          title: name,
          'aria-pressed': String(l === this.layer && hh === this.head),
        });
        const ctx = c.getContext('2d');
        if (ctx) blit(ctx, matrixImage(this.matrix(l, hh), T, style), 0, 0, SMALL);
        c.addEventListener('click', () => this.select(l, hh));
        c.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            this.select(l, hh);
          }
        });
        row.append(c);
      }
      this.grid.append(row);
    }
  }

  private renderBig(r: AttentionResult): void {
    const T = r.tokens.length;
    const p = readPalette();
    const style = this.style();
    const avail = Math.max(200, (this.big.parentElement?.clientWidth || 600) - LABEL - 8);
    this.cell = Math.max(2, Math.min(32, Math.floor(avail / T)));
    const size = this.cell * T;
    this.big.width = LABEL + size + 4;
    this.big.height = LABEL + size + 4;
    this.big.dataset.cell = String(this.cell);
    this.big.dataset.origin = String(LABEL);
    const ctx = this.big.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = rgb(p.background);
    ctx.fillRect(0, 0, this.big.width, this.big.height);
    blit(ctx, matrixImage(this.matrix(this.layer, this.head), T, style), LABEL, LABEL, size);
    if (this.cell >= 8) {
      ctx.fillStyle = p.foreground;
      ctx.font = `${Math.min(12, this.cell - 1)}px sans-serif`;
      ctx.textBaseline = 'middle';
      for (let i = 0; i < T; i++) {
        const label = tokenLabel(r.tokens[i]);
        ctx.textAlign = 'right';
        ctx.fillText(label, LABEL - 4, LABEL + (i + 0.5) * this.cell);
        ctx.save();
        ctx.translate(LABEL + (i + 0.5) * this.cell, LABEL - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(label, 0, 0);
        ctx.restore();
      }
    }
    if (this.keyboard) {
      const [fi, fj] = this.focus;
      ctx.strokeStyle = p.focus;
      ctx.lineWidth = 2;
      ctx.strokeRect(LABEL + fj * this.cell + 1, LABEL + fi * this.cell + 1, this.cell - 2, this.cell - 2);
    }
    const what = this.head < 0 ? 'average of heads' : `head ${this.head}`;
    this.title.textContent = `Layer ${this.layer}, ${what} (rows: query token, columns: key token)`;
    this.big.setAttribute('aria-label', `Attention map, layer ${this.layer}, ${what}; arrow keys move between cells`);
  }

  private describe(i: number, j: number): string {
    const r = this.result;
    if (!r) return '';
    const w = this.matrix(this.layer, this.head)[i * r.tokens.length + j];
    const masked = j > i && w === 0 ? ' (masked: a token cannot see later tokens)' : '';
    return `${JSON.stringify(r.tokens[i])} (${i}) → ${JSON.stringify(r.tokens[j])} (${j}): ${w.toFixed(4)}${masked}`;
  }

  private hover(e: MouseEvent): void {
    const r = this.result;
    if (!r || !this.cell) return;
    const rect = this.big.getBoundingClientRect();
    const j = Math.floor((e.clientX - rect.left - LABEL) / this.cell);
    const i = Math.floor((e.clientY - rect.top - LABEL) / this.cell);
    const T = r.tokens.length;
    if (i < 0 || j < 0 || i >= T || j >= T) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = this.describe(i, j);
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${e.clientX - rect.left + 12}px`;
    this.tooltip.style.top = `${e.clientY - rect.top + 12}px`;
  }

  private key(e: KeyboardEvent): void {
    const r = this.result;
    if (!r) return;
    const T = r.tokens.length;
    const [i, j] = this.focus;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const d = moves[e.key];
    if (!d) return;
    e.preventDefault();
    this.focus = [Math.min(T - 1, Math.max(0, i + d[0])), Math.min(T - 1, Math.max(0, j + d[1]))];
    this.keyboard = true;
    this.renderBig(r);
    this.readout.textContent = this.describe(...this.focus);
  }

  save(): AttentionSaved {
    const r = this.result;
    const small = r && r.weights.length * r.weights[0].length * r.tokens.length ** 2 <= 200_000;
    return { text: valueOf(this.text), layer: this.layer, head: this.head, result: small ? r : null };
  }

  restore(s: Partial<AttentionSaved> | undefined, validate: (r: unknown) => AttentionResult | null): void {
    if (!s) return;
    if (typeof s.text === 'string') setValue(this.text, s.text);
    if (Number.isInteger(s.layer)) this.layer = s.layer as number;
    if (Number.isInteger(s.head)) this.head = s.head as number;
    const r = validate(s.result);
    if (r) this.show(r);
  }
}
