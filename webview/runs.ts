// The training runs the panel has seen: per run, the train-loss, learning-rate and throughput points, the
// validation points with the task's measures (a classifier's accuracy), in step order, and the test result
// a fine-tuning run ends with. Points arrive live (in order; going back means a resumed run), in the host's
// replay after a reload (merged: filling gaps, never replacing), or from saved state.
import type { TrainEval, TrainStep, TrainTest } from '../src/protocol/panel';

export interface Run {
  id: string;
  totalSteps: number;
  step: number[];
  tokens: number[];
  loss: number[];
  lr: number[];
  tokensPerSec: number[];
  evalStep: number[];
  evalTokens: number[];
  valLoss: number[];
  /** The task's measures at each validation point (aligned with evalStep); {} where it had none. */
  evalMetrics: Record<string, number>[];
  /** Measures and confusion matrix on the test split, once the run has finished. */
  test?: Omit<TrainTest, 'runId'>;
}

/** Saved form of the runs (plain arrays, for setState). */
export type SavedRuns = Run[];

function emptyRun(id: string): Run {
  return { id, totalSteps: 0, step: [], tokens: [], loss: [], lr: [], tokensPerSec: [], evalStep: [], evalTokens: [], valLoss: [], evalMetrics: [] };
}

/** Index of the first entry of the ascending list `xs` that is >= x. */
function lowerBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Runs {
  private readonly byId = new Map<string, Run>();
  /** Bumped on every change, so views redraw only when something changed. */
  version = 0;

  get list(): Run[] {
    return [...this.byId.values()];
  }

  private run(id: string): Run {
    let r = this.byId.get(id);
    if (!r) {
      r = emptyRun(id);
      this.byId.set(id, r);
    }
    return r;
  }

  /**
   * A live step. Steps arrive in order, so one at or before the last held means the run was resumed from
   * an earlier checkpoint: the steps and evals from that point on are replaced.
   */
  addStep(s: TrainStep): void {
    const r = this.run(s.runId);
    r.totalSteps = s.totalSteps;
    const i = lowerBound(r.step, s.step);
    if (i < r.step.length) {
      for (const a of [r.step, r.tokens, r.loss, r.lr, r.tokensPerSec]) a.length = i;
      const j = lowerBound(r.evalStep, s.step);
      for (const a of [r.evalStep, r.evalTokens, r.valLoss, r.evalMetrics]) a.length = j;
      r.test = undefined;
    }
    r.step.push(s.step);
    r.tokens.push(s.tokensSeen);
    r.loss.push(s.loss);
    r.lr.push(s.lr);
    r.tokensPerSec.push(s.tokensPerSec);
    this.version++;
  }

  /** A live validation point; like addStep, one at or before the last replaces from there. */
  addEval(e: TrainEval): void {
    const r = this.run(e.runId);
    const i = lowerBound(r.evalStep, e.step);
    for (const a of [r.evalStep, r.evalTokens, r.valLoss, r.evalMetrics]) a.length = i;
    r.evalStep.push(e.step);
    r.evalTokens.push(e.tokensSeen);
    r.valLoss.push(e.valLoss);
    r.evalMetrics.push(e.metrics ?? {});
    this.version++;
  }

  /** A run's test result (live or replayed): the latest one reported wins. */
  setTest(t: TrainTest): void {
    const { runId, ...result } = t;
    this.run(runId).test = result;
    this.version++;
  }

  /** Whether any run reported a measure named `key` at a validation point. */
  hasMetric(key: string): boolean {
    return this.list.some((r) => r.evalMetrics.some((m) => m[key] !== undefined));
  }

  /** A replayed step (after a reload): filled in where missing, never replacing what is held. */
  mergeStep(s: TrainStep): void {
    const r = this.run(s.runId);
    r.totalSteps = Math.max(r.totalSteps, s.totalSteps);
    const i = lowerBound(r.step, s.step);
    if (r.step[i] === s.step) return;
    r.step.splice(i, 0, s.step);
    r.tokens.splice(i, 0, s.tokensSeen);
    r.loss.splice(i, 0, s.loss);
    r.lr.splice(i, 0, s.lr);
    r.tokensPerSec.splice(i, 0, s.tokensPerSec);
    this.version++;
  }

  mergeEval(e: TrainEval): void {
    const r = this.run(e.runId);
    const i = lowerBound(r.evalStep, e.step);
    if (r.evalStep[i] === e.step) return;
    r.evalStep.splice(i, 0, e.step);
    r.evalTokens.splice(i, 0, e.tokensSeen);
    r.valLoss.splice(i, 0, e.valLoss);
    r.evalMetrics.splice(i, 0, e.metrics ?? {});
    this.version++;
  }

  remove(id: string): void {
    if (this.byId.delete(id)) this.version++;
  }

  /**
   * The runs for the webview state, each thinned to about `maxPoints` steps (every k-th kept, plus the
   * last) so saving stays cheap during a long run; the host replays full history after a reload.
   */
  save(maxPoints = 5000): SavedRuns {
    return this.list.map((r) => {
      const n = r.step.length;
      if (n <= maxPoints) return r;
      const k = Math.ceil(n / maxPoints);
      const keep = (_: number, i: number) => i % k === 0 || i === n - 1;
      return { ...r, step: r.step.filter(keep), tokens: r.tokens.filter(keep), loss: r.loss.filter(keep), lr: r.lr.filter(keep), tokensPerSec: r.tokensPerSec.filter(keep) };
    });
  }

  /**
   * Restores saved runs, skipping anything malformed (state from an older panel version); a saved test
   * result is kept only when `checkTest` accepts it.
   */
  restore(saved: unknown, checkTest: (t: unknown) => Run['test'] | undefined = () => undefined): void {
    if (!Array.isArray(saved)) return;
    for (const r of saved as Partial<Run>[]) {
      if (typeof r?.id !== 'string' || !Array.isArray(r.step)) continue;
      const n = r.step.length;
      const cols = [r.tokens, r.loss, r.lr, r.tokensPerSec];
      if (!cols.every((c) => Array.isArray(c) && c.length === n)) continue;
      const run = { ...emptyRun(r.id), ...r } as Run;
      // State saved before evals carried measures has none: one empty set per validation point.
      if (!Array.isArray(r.evalMetrics)) run.evalMetrics = (run.evalStep ?? []).map(() => ({}));
      if (![run.evalTokens, run.valLoss, run.evalMetrics].every((c) => Array.isArray(c) && c.length === run.evalStep.length)) continue;
      if (run.evalMetrics.some((m) => typeof m !== 'object' || m === null || Object.values(m).some((v) => typeof v !== 'number'))) continue;
      run.test = r.test === undefined ? undefined : checkTest(r.test);
      this.byId.set(r.id, run);
    }
    this.version++;
  }
}
