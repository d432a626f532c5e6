// When a training run has diverged although its loss is still a finite number: the loss explodes (a learning
// rate far too high, no clipping: 10.8 at step 1, thousands at step 2). A NaN or infinite loss is caught by
// the loop itself; this watches the loss's trend. The rule fires when the median of the last few step losses
// is both twice the lowest loss of the run so far and 2 nats above it. The median ignores a single unlucky
// batch; the two margins together keep it quiet in normal noisy training, whether the loss is near 10 (the
// start of pretraining) or near 0.05 (a fine-tuned classifier), since cross-entropy is in nats in every task.

/** Step losses the median is taken over. */
export const TREND_WINDOW = 3;
/** The recent median must exceed the lowest loss by this factor... */
export const TREND_FACTOR = 2;
/** ...and by this many nats. */
export const TREND_MARGIN = 2;

/** What the watch saw when it fired. */
export interface Divergence {
  /** Median of the last TREND_WINDOW losses. */
  recent: number;
  /** Lowest loss of the run so far (since this process started or resumed it). */
  lowest: number;
}

/** Follows a run's step losses; `add` reports a divergence when the trend says the run has blown up. */
export class LossTrend {
  private readonly window: number[] = [];
  private lowestLoss = Infinity;

  /** Adds the loss of the next step; returns what was seen when the run has diverged, else undefined. */
  add(loss: number): Divergence | undefined {
    if (!Number.isFinite(loss)) return undefined; // the loop reports these itself
    this.lowestLoss = Math.min(this.lowestLoss, loss);
    this.window.push(loss);
    if (this.window.length > TREND_WINDOW) this.window.shift();
    if (this.window.length < TREND_WINDOW) return undefined;
    const recent = this.median();
    const lowest = this.lowestLoss;
    return recent > lowest * TREND_FACTOR && recent > lowest + TREND_MARGIN ? { recent, lowest } : undefined;
  }

  /** Median of the last TREND_WINDOW losses (NaN before any); a checkpoint's score when there is no validation. */
  median(): number {
    if (this.window.length === 0) return NaN;
    const s = [...this.window].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
}
