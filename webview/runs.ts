// The training runs the panel has seen: per run, the train-loss, learning-rate and throughput points and
// the validation points, in step order. Points arrive live, in a replay after a reload, or from saved
// state, so adding is idempotent: a step already held is ignored, and a step before the last one (a
// run resumed from an earlier checkpoint) drops the points after it first.
import type { TrainEval, TrainStep } from '../src/protocol/panel';

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
}

/** Saved form of the runs (plain arrays, for setState). */
export type SavedRuns = Run[];

function emptyRun(id: string): Run {
  return { id, totalSteps: 0, step: [], tokens: [], loss: [], lr: [], tokensPerSec: [], evalStep: [], evalTokens: [], valLoss: [] };
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

  addStep(s: TrainStep): void {
    const r = this.run(s.runId);
    r.totalSteps = s.totalSteps;
    const i = lowerBound(r.step, s.step);
    if (r.step[i] === s.step) return;
    if (i < r.step.length) {
      for (const a of [r.step, r.tokens, r.loss, r.lr, r.tokensPerSec]) a.length = i;
      const j = lowerBound(r.evalStep, s.step);
      for (const a of [r.evalStep, r.evalTokens, r.valLoss]) a.length = j;
    }
    r.step.push(s.step);
    r.tokens.push(s.tokensSeen);
    r.loss.push(s.loss);
    r.lr.push(s.lr);
    r.tokensPerSec.push(s.tokensPerSec);
    this.version++;
  }

  addEval(e: TrainEval): void {
    const r = this.run(e.runId);
    const i = lowerBound(r.evalStep, e.step);
    if (r.evalStep[i] === e.step) return;
    if (i < r.evalStep.length) for (const a of [r.evalStep, r.evalTokens, r.valLoss]) a.length = i;
    r.evalStep.push(e.step);
    r.evalTokens.push(e.tokensSeen);
    r.valLoss.push(e.valLoss);
    this.version++;
  }

  remove(id: string): void {
    if (this.byId.delete(id)) this.version++;
  }

  save(): SavedRuns {
    return this.list;
  }

  /** Restores saved runs, skipping anything malformed (state from an older panel version). */
  restore(saved: unknown): void {
    if (!Array.isArray(saved)) return;
    for (const r of saved as Partial<Run>[]) {
      if (typeof r?.id !== 'string' || !Array.isArray(r.step)) continue;
      const n = r.step.length;
      const cols = [r.tokens, r.loss, r.lr, r.tokensPerSec];
      if (!cols.every((c) => Array.isArray(c) && c.length === n)) continue;
      const run = { ...emptyRun(r.id), ...r } as Run;
      if (![run.evalTokens, run.valLoss].every((c) => Array.isArray(c) && c.length === run.evalStep.length)) continue;
      this.byId.set(r.id, run);
    }
    this.version++;
  }
}
