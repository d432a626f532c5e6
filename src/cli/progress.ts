// A progress display for long CLI work. On a terminal one status line is redrawn in place (at most ~10 times
// a second); elsewhere (a log file, CI) it prints plain lines now and then. Messages (an evaluation, a
// sample) are printed above the status line.
import type { TextSink } from './io';
import { duration } from './format';

export interface ProgressOptions {
  sink: TextSink;
  isTTY: boolean;
  columns: number;
  /** Units of work in all (e.g. optimizer steps). */
  total: number;
  /** Plain-line mode: print one line every this many units (default total/20). */
  every?: number;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
  /** How a count is written in the status line (default: the plain number; bytes as "12.3 MB", say). */
  formatCount?: (n: number) => string;
}

export class ProgressBar {
  private lastDraw = -Infinity;
  private lastLinePrinted = -1;
  private drawn = false;
  private startTime: number | undefined;
  private startDone = 0;
  private readonly now: () => number;
  private readonly every: number;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? (() => Date.now());
    this.every = o.every ?? Math.max(1, Math.round(o.total / 20));
  }

  /** Estimated time left from the pace since the first update of this session; undefined before two updates. */
  eta(done: number): number | undefined {
    const t = this.now();
    if (this.startTime === undefined) {
      this.startTime = t;
      this.startDone = done;
      return undefined;
    }
    const rate = (done - this.startDone) / (t - this.startTime); // units per ms
    return rate > 0 ? (this.o.total - done) / rate : undefined;
  }

  /** Reports progress with a status text such as "loss 4.12  1,234 tok/s". */
  update(done: number, status: string): void {
    const eta = this.eta(done);
    const etaText = eta === undefined ? '' : `  ETA ${duration(eta)}`;
    const f = this.o.formatCount ?? String;
    const head = `${f(done).padStart(f(this.o.total).length)}/${f(this.o.total)}`;
    if (!this.o.isTTY) {
      if (done === this.o.total || done - this.lastLinePrinted >= this.every || this.lastLinePrinted < 0) {
        this.o.sink.write(`${head}  ${status}${etaText}\n`);
        this.lastLinePrinted = done;
      }
      return;
    }
    const t = this.now();
    if (t - this.lastDraw < 100 && done < this.o.total) return;
    this.lastDraw = t;
    const text = `  ${status}${etaText}`;
    const barWidth = Math.max(10, Math.min(30, this.o.columns - head.length - text.length - 4));
    const filled = Math.round((barWidth * Math.min(done, this.o.total)) / Math.max(1, this.o.total));
    const bar = `[${'='.repeat(filled)}${filled < barWidth ? '>' : ''}${' '.repeat(Math.max(0, barWidth - filled - 1))}]`;
    const line = `${head} ${bar}${text}`.slice(0, Math.max(20, this.o.columns - 1));
    this.o.sink.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Prints a line above the status line. */
  message(line: string): void {
    if (this.o.isTTY && this.drawn) this.o.sink.write('\r\x1b[2K');
    this.o.sink.write(line + '\n');
    this.lastDraw = -Infinity; // redraw the status on the next update
  }

  /** Ends the status line. */
  done(): void {
    if (this.o.isTTY && this.drawn) this.o.sink.write('\n');
    this.drawn = false;
  }
}
