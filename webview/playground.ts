// The Playground tab: a prompt and the sampling settings (temperature, top-k, top-p, max new tokens,
// seed); generated tokens stream in one by one, each a focusable chip that shows the model's top
// candidates for that position with their probabilities; stop, copy and insert into the editor. With a
// prompt style (alpaca, phi3; the selected model's own by default) the prompt is an instruction, with an
// optional input, that the host formats as the model was fine-tuned; the formatted text is shown.
import { PROMPT_STYLES } from '../src/protocol/model';
import type { Candidate, GenerateRequest } from '../src/protocol/panel';
import { button, clear, el, field, setDisabled, setValue, valueOf } from './dom';

export interface GeneratedToken {
  id: number;
  text: string;
  candidates?: Candidate[];
}

type Style = (typeof PROMPT_STYLES)[number];

export interface PlaygroundSaved {
  prompt: string;
  /** '' for plain text, else a prompt style. */
  style?: string;
  input?: string;
  settings: Record<string, string>;
  tokens: GeneratedToken[];
}

export interface PlaygroundActions {
  generate(req: Omit<GenerateRequest, 'requestId'>): string;
  stop(requestId: string): void;
  copy(text: string): void;
  insert(text: string): void;
  changed(): void;
}

const SETTINGS: Array<[id: string, label: string, value: string]> = [
  ['temperature', 'Temperature (0 = greedy)', '0.8'],
  ['topK', 'Top-k (empty = off)', '40'],
  ['topP', 'Top-p (empty = off)', ''],
  ['maxNewTokens', 'Max new tokens', '50'],
  ['seed', 'Seed (empty = random)', '123'],
  ['topCandidates', 'Candidates to show', '5'],
];

export class PlaygroundView {
  readonly root: HTMLElement;
  private readonly prompt = el('vscode-textarea', { id: 'gen-prompt', rows: 4, resize: 'vertical', 'aria-label': 'Prompt' });
  private readonly promptLabel = el('vscode-label', { for: 'gen-prompt' }, 'Prompt');
  private readonly style = el<HTMLSelectElement>(
    'select',
    { id: 'gen-style', class: 'select', 'aria-label': 'Prompt style' },
    el('option', { value: '' }, 'Plain text (continue the prompt)'),
    ...PROMPT_STYLES.map((s) => el('option', { value: s }, `${s} instruction`)),
  );
  private readonly input = el('vscode-textarea', { id: 'gen-input', rows: 2, resize: 'vertical', 'aria-label': 'Input' });
  private readonly inputRow = el('div', { id: 'gen-input-row', hidden: true }, el('vscode-label', { for: 'gen-input' }, 'Input (optional)'), this.input);
  /** Whether the person picked a style; until then the selected model's style is used. */
  private styleTouched = false;
  private readonly inputs = new Map<string, HTMLElement>();
  private readonly output = el('div', { id: 'gen-output', class: 'gen-output', 'aria-live': 'polite', 'aria-label': 'Generated text' });
  private readonly candidates = el('div', { id: 'gen-candidates', class: 'candidates', 'aria-live': 'polite' });
  private readonly status = el('span', { id: 'gen-status', class: 'muted', role: 'status' });
  private readonly genBtn: HTMLElement;
  private readonly stopBtn: HTMLElement;
  private tokens: GeneratedToken[] = [];
  private promptUsed = '';
  private current: string | null = null;

  constructor(private readonly actions: PlaygroundActions) {
    const fields = el('div', { class: 'fields' });
    for (const [id, label, value] of SETTINGS) {
      const f = field(`gen-${id}`, label, value);
      this.inputs.set(id, f.input);
      f.input.addEventListener('input', () => actions.changed());
      fields.append(f.row);
    }
    this.genBtn = button('gen-start', 'Generate', () => this.start());
    this.stopBtn = button('gen-stop', 'Stop', () => this.current && actions.stop(this.current), true);
    setDisabled(this.stopBtn, true);
    this.prompt.addEventListener('input', () => actions.changed());
    this.input.addEventListener('input', () => actions.changed());
    this.style.addEventListener('change', () => {
      this.styleTouched = true;
      this.showStyle();
      actions.changed();
    });
    this.root = el(
      'section',
      { class: 'view', 'aria-label': 'Playground' },
      el('div', { class: 'toolbar' }, el('vscode-label', { for: 'gen-style' }, 'Prompt style'), this.style),
      this.promptLabel,
      this.prompt,
      this.inputRow,
      fields,
      el(
        'div',
        { class: 'toolbar' },
        this.genBtn,
        this.stopBtn,
        button('gen-copy', 'Copy', () => actions.copy(this.text()), true),
        button('gen-insert', 'Insert into editor', () => actions.insert(this.text()), true),
        this.status,
      ),
      el('div', { class: 'gen-layout' }, this.output, this.candidates),
    );
  }

  private showStyle(): void {
    const styled = this.style.value !== '';
    this.inputRow.hidden = !styled;
    this.promptLabel.textContent = styled ? `Instruction (formatted as ${this.style.value})` : 'Prompt';
  }

  /** The selected model's prompt style; used unless the person chose one. */
  setModelStyle(style: Style | undefined): void {
    if (this.styleTouched) return;
    this.style.value = style ?? '';
    this.showStyle();
  }

  /** The host says which exact text the model continues (the formatted prompt). */
  started(requestId: string, prompt: string): void {
    if (requestId !== this.current) return;
    this.promptUsed = prompt;
    this.renderOutput();
  }

  /** Generated text only (without the prompt). */
  text(): string {
    return this.tokens.map((t) => t.text).join('');
  }

  private num(id: string, optional: boolean): number | undefined | null {
    const raw = valueOf(this.inputs.get(id) as HTMLElement).trim();
    if (raw === '') return optional ? undefined : null;
    const v = Number(raw);
    return Number.isFinite(v) ? v : null;
  }

  /** Reads the settings; null with a message in the status line when one cannot work. */
  private settings(): Omit<GenerateRequest, 'requestId' | 'prompt'> | null {
    const v = {
      temperature: this.num('temperature', false),
      topK: this.num('topK', true),
      topP: this.num('topP', true),
      maxNewTokens: this.num('maxNewTokens', false),
      seed: this.num('seed', true),
      topCandidates: this.num('topCandidates', false),
    };
    const problems: string[] = [];
    if (v.temperature == null || v.temperature < 0 || v.temperature > 10) problems.push('temperature must be a number from 0 to 10');
    if (v.topK === null || (v.topK !== undefined && (!Number.isInteger(v.topK) || v.topK < 1))) problems.push('top-k must be a whole number of at least 1, or empty');
    if (v.topP === null || (v.topP !== undefined && !(v.topP > 0 && v.topP <= 1))) problems.push('top-p must be above 0 and at most 1, or empty');
    if (v.maxNewTokens == null || !Number.isInteger(v.maxNewTokens) || v.maxNewTokens < 1 || v.maxNewTokens > 4096) problems.push('max new tokens must be a whole number from 1 to 4096');
    if (v.seed === null || (v.seed !== undefined && (!Number.isInteger(v.seed) || v.seed < 0 || v.seed > 2 ** 32 - 1))) problems.push('seed must be a whole number from 0 to 4294967295, or empty');
    if (v.topCandidates == null || !Number.isInteger(v.topCandidates) || v.topCandidates < 0 || v.topCandidates > 20) problems.push('candidates must be a whole number from 0 to 20');
    if (problems.length) {
      this.status.textContent = `Cannot generate: ${problems.join('; ')}.`;
      return null;
    }
    const out = { temperature: v.temperature as number, maxNewTokens: v.maxNewTokens as number, topCandidates: v.topCandidates as number } as Omit<GenerateRequest, 'requestId' | 'prompt'>;
    if (v.topK !== undefined) out.topK = v.topK as number;
    if (v.topP !== undefined) out.topP = v.topP as number;
    if (v.seed !== undefined) out.seed = v.seed as number;
    return out;
  }

  private start(): void {
    const s = this.settings();
    if (!s) return;
    this.tokens = [];
    this.promptUsed = valueOf(this.prompt);
    this.renderOutput();
    const style = this.style.value as Style | '';
    this.current = this.actions.generate({ prompt: this.promptUsed, ...s, ...(style ? { promptStyle: style, input: valueOf(this.input) } : {}) });
    this.status.textContent = 'Generating…';
    setDisabled(this.genBtn, true);
    setDisabled(this.stopBtn, false);
  }

  addToken(requestId: string, t: GeneratedToken): void {
    if (requestId !== this.current) return;
    this.tokens.push(t);
    this.output.append(this.chip(t, this.tokens.length - 1));
    this.status.textContent = `Generating… ${this.tokens.length} tokens`;
    this.actions.changed();
  }

  finish(requestId: string, reason: 'done' | 'stopped' | 'error', message?: string): void {
    if (requestId !== this.current) return;
    this.current = null;
    setDisabled(this.genBtn, false);
    setDisabled(this.stopBtn, true);
    const n = `${this.tokens.length} tokens`;
    this.status.textContent = reason === 'done' ? `Done: ${n}.` : reason === 'stopped' ? `Stopped after ${n}.` : `Failed: ${message ?? 'unknown error'}`;
  }

  private chip(t: GeneratedToken, index: number): HTMLElement {
    const c = el('span', { class: 'token', tabindex: 0, role: 'button', 'data-index': index, 'aria-label': `Token ${index + 1}: ${JSON.stringify(t.text)}` }, t.text);
    const show = () => this.showCandidates(t, index);
    c.addEventListener('click', show);
    c.addEventListener('focus', show);
    return c;
  }

  private showCandidates(t: GeneratedToken, index: number): void {
    clear(this.candidates);
    this.candidates.append(el('h4', {}, `Token ${index + 1}: ${JSON.stringify(t.text)} (id ${t.id})`));
    if (!t.candidates?.length) {
      this.candidates.append(el('p', { class: 'muted' }, 'No candidates were asked for.'));
      return;
    }
    const list = el('ol', { class: 'cand-list' });
    for (const c of t.candidates) {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${Math.round(c.prob * 100)}%`;
      list.append(el('li', { class: c.id === t.id ? 'chosen' : undefined }, el('code', {}, JSON.stringify(c.text)), ` ${(c.prob * 100).toFixed(1)}%`, el('span', { class: 'bar-box' }, bar)));
    }
    this.candidates.append(list);
  }

  private renderOutput(): void {
    clear(this.output);
    clear(this.candidates);
    this.output.append(el('span', { class: 'prompt-text' }, this.promptUsed));
    this.tokens.forEach((t, i) => this.output.append(this.chip(t, i)));
  }

  save(): PlaygroundSaved {
    const settings: Record<string, string> = {};
    for (const [id, input] of this.inputs) settings[id] = valueOf(input);
    return { prompt: valueOf(this.prompt), ...(this.styleTouched ? { style: this.style.value } : {}), input: valueOf(this.input), settings, tokens: this.tokens };
  }

  restore(s: Partial<PlaygroundSaved> | undefined): void {
    if (!s) return;
    if (typeof s.prompt === 'string') {
      setValue(this.prompt, s.prompt);
      this.promptUsed = s.prompt;
    }
    if (typeof s.style === 'string' && (s.style === '' || (PROMPT_STYLES as readonly string[]).includes(s.style))) {
      this.style.value = s.style;
      this.styleTouched = true;
      this.showStyle();
    }
    if (typeof s.input === 'string') setValue(this.input, s.input);
    for (const [id, v] of Object.entries(s.settings ?? {})) {
      const input = this.inputs.get(id);
      if (input && typeof v === 'string') setValue(input, v);
    }
    if (Array.isArray(s.tokens)) {
      this.tokens = s.tokens.filter((t) => typeof t?.text === 'string' && typeof t.id === 'number');
      this.renderOutput();
    }
  }
}
