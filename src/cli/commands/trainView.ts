// Shows a training run's events in the terminal: a progress bar with loss, tokens/s and ETA, and a line for
// each evaluation, sample and checkpoint. With --json every event is printed as one JSON line instead.
import type { TrainEvent } from '../../core/train';
import type { CliIo } from '../io';
import { println } from '../io';
import { thousands } from '../format';
import { ProgressBar } from '../progress';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** A confusion matrix as text rows: true class down, predicted class across. */
export function confusionLines(c: { labels: string[]; counts: number[][] }): string[] {
  const w = Math.max(6, ...c.labels.map((l) => l.length), ...c.counts.flat().map((n) => String(n).length)) + 2;
  const corner = 'true \\ predicted';
  const first = Math.max(w, corner.length + 2, ...c.labels.map((l) => l.length + 2));
  const lines = [`  ${corner.padEnd(first)}${c.labels.map((l) => l.padStart(w)).join('')}`];
  c.labels.forEach((l, i) => lines.push(`  ${l.padEnd(first)}${c.counts[i].map((n) => String(n).padStart(w)).join('')}`));
  return lines;
}

export class TrainView {
  private bar: ProgressBar | undefined;
  private totalSteps = 0;
  /** Each validation loss seen, by step (the demo prints them). */
  readonly valLosses: Array<{ step: number; valLoss: number }> = [];
  /** The first and last training loss of this session. */
  firstLoss: number | undefined;
  lastLoss: number | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {}

  private say(line: string): void {
    if (this.bar) this.bar.message(line);
    else println(this.io.stderr, line);
  }

  onEvent = (e: TrainEvent): void => {
    if (this.json) {
      println(this.io.stdout, JSON.stringify(e));
      if (e.type === 'eval') this.valLosses.push({ step: e.step, valLoss: e.valLoss });
      return;
    }
    switch (e.type) {
      case 'start':
        this.totalSteps = e.totalSteps;
        this.say(
          `${e.resumed ? `resuming at step ${e.step}` : 'starting'}: ${thousands(e.parameters)} parameters` +
            (e.trainableParameters !== undefined && e.trainableParameters !== e.parameters ? ` (${thousands(e.trainableParameters)} trained)` : '') +
            (e.task === 'classify' || e.task === 'instruct'
              ? `, ${thousands(e.trainWindows)} training examples`
              : `, ${thousands(e.trainTokens)} training / ${thousands(e.valTokens)} validation tokens`) +
            `, ${e.stepsPerEpoch} steps per epoch, to step ${e.totalSteps}`,
        );
        this.bar = new ProgressBar({ sink: this.io.stderr, isTTY: this.io.isTTY, columns: this.io.columns, total: e.totalSteps });
        break;
      case 'step':
        this.firstLoss ??= e.loss;
        this.lastLoss = e.loss;
        this.totalSteps = e.totalSteps;
        this.bar ??= new ProgressBar({ sink: this.io.stderr, isTTY: this.io.isTTY, columns: this.io.columns, total: e.totalSteps });
        this.bar.update(e.step, `loss ${e.loss.toFixed(3)}  lr ${e.lr.toExponential(1)}  ${thousands(e.tokensPerSec)} tok/s`);
        break;
      case 'eval':
        this.valLosses.push({ step: e.step, valLoss: e.valLoss });
        if (e.metrics?.valAccuracy !== undefined) {
          const m = e.metrics;
          const train = m.trainAccuracy !== undefined ? `; training accuracy ${pct(m.trainAccuracy)}, loss ${(m.trainLoss ?? NaN).toFixed(3)}` : '';
          this.say(`step ${e.step}: validation accuracy ${pct(m.valAccuracy)}, loss ${e.valLoss.toFixed(3)}${train}`);
        } else {
          this.say(`step ${e.step}: validation loss ${e.valLoss.toFixed(3)} (perplexity ${Math.exp(e.valLoss).toFixed(1)})`);
        }
        break;
      case 'sample':
        this.say(`step ${e.step} sample: ${JSON.stringify(e.prompt + e.text)}`);
        break;
      case 'test':
        this.say(`test: ${Object.entries(e.metrics).map(([k, v]) => (k === 'accuracy' ? `accuracy ${pct(v)}` : `${k} ${v.toFixed(3)}`)).join(', ')}`);
        if (e.confusion) for (const l of confusionLines(e.confusion)) this.say(l);
        break;
      case 'checkpoint':
        this.say(`step ${e.step}: checkpoint ${e.dir}`);
        break;
      case 'responses':
        if (e.file !== undefined) {
          this.bar?.done();
          this.bar = undefined;
          this.say(`wrote ${e.total} test responses: ${e.file}`);
        } else if (e.done === 0) {
          this.bar?.done();
          this.say(`generating the responses of ${e.total} test records`);
          this.bar = new ProgressBar({ sink: this.io.stderr, isTTY: this.io.isTTY, columns: this.io.columns, total: e.total });
        } else {
          this.bar?.update(e.done, 'responses');
        }
        break;
      case 'done':
        this.bar?.done();
        this.bar = undefined;
        break;
    }
  };

  /** Ends the progress line (after an error, say). */
  close(): void {
    this.bar?.done();
    this.bar = undefined;
  }

  get steps(): number {
    return this.totalSteps;
  }
}
