// The Training tab: live loss curves (train and validation, against step or tokens seen, linear or log
// scale), accuracy curves (train and validation) when a run reports them (a classifier), and the
// learning-rate schedule for every run overlaid, per-run figures including tokens/s, a fine-tuning run's
// test results with its confusion matrix, and the start/stop/resume buttons. uPlot draws the curves; redraws are batched so a long run with
// thousands of points never redraws more than a few times a second.
import uPlot from 'uplot';
import type { RunState } from '../src/protocol/panel';
import { button, clear, el, fmt, setDisabled } from './dom';
import { fmtRate } from './numbers';
import type { Run, Runs } from './runs';
import { TestResultsView } from './testResults';
import { readPalette } from './theme';

/** The measures a classifier reports at each validation point (core's eval event `metrics`), drawn as accuracy. */
export const ACCURACY = { train: 'trainAccuracy', val: 'valAccuracy' } as const;

export interface TrainingOptions {
  logScale: boolean;
  xAxis: 'step' | 'tokens';
}

export interface TrainingActions {
  start(): void;
  stop(): void;
  resume(): void;
  changed(): void;
}

const REDRAW_MS = 250;

export class TrainingView {
  readonly root: HTMLElement;
  private readonly lossBox = el('div', { class: 'chart', id: 'loss-chart', role: 'img', 'aria-label': 'Loss curves' });
  private readonly lrBox = el('div', { class: 'chart small', id: 'lr-chart', role: 'img', 'aria-label': 'Learning rate' });
  private readonly accBox = el('div', { class: 'chart', id: 'acc-chart', role: 'img', 'aria-label': 'Accuracy curves' });
  private readonly accSection = el('div', { id: 'acc-section', hidden: true }, el('h3', {}, 'Accuracy'), this.accBox);
  private readonly tests = new TestResultsView();
  private readonly stats = el('table', { class: 'stats', id: 'run-stats' });
  private readonly stateLabel = el('span', { id: 'train-state', role: 'status', 'aria-live': 'polite' }, 'idle');
  private readonly startBtn: HTMLElement;
  private readonly stopBtn: HTMLElement;
  private readonly resumeBtn: HTMLElement;
  private lossPlot: uPlot | undefined;
  private lrPlot: uPlot | undefined;
  private accPlot: uPlot | undefined;
  private plotKey = '';
  private drawnVersion = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastDraw = 0;

  constructor(
    private readonly runs: Runs,
    readonly options: TrainingOptions,
    private readonly actions: TrainingActions,
  ) {
    this.startBtn = button('train-start', 'Start', () => actions.start());
    this.stopBtn = button('train-stop', 'Stop', () => actions.stop(), true);
    this.resumeBtn = button('train-resume', 'Resume', () => actions.resume(), true);
    const log = el('vscode-checkbox', { id: 'log-scale', label: 'Log scale', checked: options.logScale });
    log.addEventListener('change', () => {
      this.options.logScale = (log as HTMLInputElement).checked;
      this.rebuild();
    });
    const byTokens = el('vscode-checkbox', { id: 'x-tokens', label: 'Against tokens seen', checked: options.xAxis === 'tokens' });
    byTokens.addEventListener('change', () => {
      this.options.xAxis = (byTokens as HTMLInputElement).checked ? 'tokens' : 'step';
      this.rebuild();
    });
    this.root = el(
      'section',
      { class: 'view', 'aria-label': 'Training' },
      el('div', { class: 'toolbar' }, this.startBtn, this.stopBtn, this.resumeBtn, el('span', { class: 'muted' }, 'State: '), this.stateLabel),
      el('div', { class: 'toolbar' }, log, byTokens),
      el('h3', {}, 'Loss'),
      this.lossBox,
      this.accSection,
      el('h3', {}, 'Learning rate'),
      this.lrBox,
      el('h3', {}, 'Runs'),
      this.stats,
      this.tests.root,
    );
    this.setState(null, 'idle');
    new ResizeObserver(() => this.resize()).observe(this.lossBox);
  }

  setState(runId: string | null, state: RunState, message?: string): void {
    this.stateLabel.textContent = `${state}${runId ? ` (${runId})` : ''}${message ? `: ${message}` : ''}`;
    const busy = state === 'running' || state === 'stopping';
    setDisabled(this.startBtn, busy);
    setDisabled(this.resumeBtn, busy);
    setDisabled(this.stopBtn, state !== 'running');
  }

  /** Asks for a redraw; several asks within REDRAW_MS make one. */
  schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, REDRAW_MS - (performance.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
  }

  /** Drops the charts (options or theme changed) and draws afresh. */
  rebuild(): void {
    this.plotKey = '';
    this.drawnVersion = -1;
    this.actions.changed();
    this.draw();
  }

  private x(r: Run, evals: boolean): number[] {
    if (this.options.xAxis === 'tokens') return evals ? r.evalTokens : r.tokens;
    return evals ? r.evalStep : r.step;
  }

  draw(): void {
    const t0 = (this.lastDraw = performance.now());
    if (this.drawnVersion === this.runs.version) return;
    this.drawnVersion = this.runs.version;
    const runs = this.runs.list;
    const lossTables: uPlot.AlignedData[] = [];
    const lrTables: uPlot.AlignedData[] = [];
    const accTables: uPlot.AlignedData[] = [];
    const accuracy = this.runs.hasMetric(ACCURACY.train) || this.runs.hasMetric(ACCURACY.val);
    for (const r of runs) {
      lossTables.push([this.x(r, false), r.loss], [this.x(r, true), r.valLoss]);
      lrTables.push([this.x(r, false), r.lr]);
      const measure = (k: string) => r.evalMetrics.map((m) => m[k] ?? null);
      accTables.push([this.x(r, true), measure(ACCURACY.train)] as uPlot.AlignedData, [this.x(r, true), measure(ACCURACY.val)] as uPlot.AlignedData);
    }
    const key = `${runs.map((r) => r.id).join('\u0000')}|${this.options.logScale}|${this.options.xAxis}|${accuracy}`;
    if (key !== this.plotKey) this.createPlots(runs, key, accuracy);
    const lossData = runs.length ? uPlot.join(lossTables) : ([[]] as uPlot.AlignedData);
    const lrData = runs.length ? uPlot.join(lrTables) : ([[]] as uPlot.AlignedData);
    this.lossPlot?.setData(lossData);
    this.lrPlot?.setData(lrData);
    this.lossBox.dataset.points = JSON.stringify(countPoints(this.lossPlot));
    this.lrBox.dataset.points = JSON.stringify(countPoints(this.lrPlot));
    if (this.accPlot) {
      this.accPlot.setData(uPlot.join(accTables));
      this.accBox.dataset.points = JSON.stringify(countPoints(this.accPlot));
    }
    this.renderStats(runs);
    this.tests.render(runs);
    // How long this redraw took, for `npm run bench:panel`.
    this.lossBox.dataset.drawMs = (performance.now() - t0).toFixed(2);
  }

  private createPlots(runs: Run[], key: string, accuracy: boolean): void {
    this.plotKey = key;
    this.lossPlot?.destroy();
    this.lrPlot?.destroy();
    this.accPlot?.destroy();
    this.accPlot = undefined;
    clear(this.lossBox);
    clear(this.lrBox);
    clear(this.accBox);
    delete this.accBox.dataset.points;
    const p = readPalette();
    const width = Math.max(300, this.lossBox.clientWidth || 600);
    const xLabel = this.options.xAxis === 'tokens' ? 'tokens seen' : 'step';
    const axis = (label: string): uPlot.Axis => ({ label, stroke: p.foreground, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid } });
    const lossSeries: uPlot.Series[] = [{ label: xLabel }];
    const lrSeries: uPlot.Series[] = [{ label: xLabel }];
    const accSeries: uPlot.Series[] = [{ label: xLabel }];
    runs.forEach((r, i) => {
      const color = p.series[i % p.series.length];
      accSeries.push(
        { label: `${r.id} train acc`, stroke: color, width: 1.5, spanGaps: true, points: { show: true, size: 4 } },
        { label: `${r.id} val acc`, stroke: color, width: 2, dash: [6, 4], spanGaps: true, points: { show: true, size: 5 } },
      );
      lossSeries.push(
        { label: `${r.id} train`, stroke: color, width: 1.5, spanGaps: true, points: { show: false } },
        { label: `${r.id} val`, stroke: color, width: 2, dash: [6, 4], spanGaps: true, points: { show: true, size: 5 } },
      );
      lrSeries.push({ label: `${r.id} lr`, stroke: color, width: 1.5, spanGaps: true, points: { show: false } });
    });
    const y = this.options.logScale ? { distr: 3 as const, log: 10 as const } : { auto: true };
    const base = { width, cursor: { drag: { x: true, y: false } }, legend: { live: true } };
    this.lossPlot = new uPlot(
      { ...base, height: 260, scales: { x: { time: false }, y }, series: lossSeries, axes: [axis(xLabel), axis('loss')] },
      [[]],
      this.lossBox,
    );
    this.lrPlot = new uPlot(
      { ...base, height: 150, scales: { x: { time: false } }, series: lrSeries, axes: [axis(xLabel), { ...axis('learning rate'), values: (_u, ticks) => ticks.map(fmtRate) }] },
      [[]],
      this.lrBox,
    );
    this.accSection.hidden = !accuracy;
    if (accuracy) {
      this.accPlot = new uPlot(
        { ...base, height: 200, scales: { x: { time: false }, y: { range: [0, 1] } }, series: accSeries, axes: [axis(xLabel), axis('accuracy')] },
        [[]],
        this.accBox,
      );
    }
  }

  private resize(): void {
    const w = Math.max(300, this.lossBox.clientWidth);
    this.lossPlot?.setSize({ width: w, height: 260 });
    this.lrPlot?.setSize({ width: w, height: 150 });
    this.accPlot?.setSize({ width: w, height: 200 });
  }

  private renderStats(runs: Run[]): void {
    clear(this.stats);
    const accuracy = this.runs.hasMetric(ACCURACY.val);
    const cols = ['Run', 'Step', 'Loss', 'Val loss', ...(accuracy ? ['Val accuracy'] : []), 'LR', 'Tokens seen', 'Tokens/s'];
    const head = el('tr', {}, ...cols.map((t) => el('th', { scope: 'col' }, t)));
    this.stats.append(el('thead', {}, head));
    const body = el('tbody');
    for (const r of runs) {
      const n = r.step.length - 1;
      const last = (a: number[]) => (a.length ? fmt(a[a.length - 1]) : '–');
      body.append(
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, r.id),
          el('td', {}, n >= 0 ? `${r.step[n]} / ${r.totalSteps}` : '–'),
          el('td', {}, last(r.loss)),
          el('td', {}, last(r.valLoss)),
          accuracy ? el('td', {}, lastAccuracy(r)) : null,
          el('td', {}, last(r.lr)),
          el('td', {}, last(r.tokens)),
          el('td', {}, n >= 0 ? Math.round(r.tokensPerSec[n]).toLocaleString('en-US') : '–'),
        ),
      );
    }
    this.stats.append(body);
  }
}

/** The run's latest validation accuracy as a percentage. */
function lastAccuracy(r: Run): string {
  for (let i = r.evalMetrics.length - 1; i >= 0; i--) {
    const v = r.evalMetrics[i][ACCURACY.val];
    if (v !== undefined) return `${(v * 100).toFixed(2)}%`;
  }
  return '–';
}

/** Non-empty values per series label, for tests and screen readers. */
function countPoints(plot: uPlot | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!plot) return out;
  plot.series.forEach((s, i) => {
    if (i === 0) return;
    const col = (plot.data[i] ?? []) as ArrayLike<number | null | undefined>;
    let n = 0;
    for (let k = 0; k < col.length; k++) if (col[k] !== null && col[k] !== undefined) n++;
    out[String(s.label)] = n;
  });
  return out;
}
