// Turns core training events (any task's TrainEvent, as the worker forwards them) into the panel's
// training events: tags them with the run, gives a validation point the tokens seen at its step (core's
// eval event does not carry it) and the task's finite measures (accuracy), passes a fine-tuning run's test
// result (measures and confusion matrix) on, and drops points the panel cannot plot (a NaN or infinite
// loss from a diverging run; the run's state change tells that story).
import type { TrainEventWire } from '../../protocol/worker';
import type { PanelTrainingEvent } from './backend';

export class TrainEventMapper {
  private tokensSeen = 0;

  constructor(readonly runId: string) {}

  map(e: TrainEventWire): PanelTrainingEvent | undefined {
    if (e.type === 'step') {
      this.tokensSeen = e.tokensSeen;
      if (!Number.isFinite(e.loss) || !Number.isFinite(e.lr)) return undefined;
      const { step, totalSteps, loss, lr, tokensSeen, tokensPerSec } = e;
      return { type: 'step', runId: this.runId, step, totalSteps, loss, lr, tokensSeen, tokensPerSec };
    }
    if (e.type === 'eval') {
      if (!Number.isFinite(e.valLoss)) return undefined;
      const metrics = finite(e.metrics);
      return { type: 'eval', runId: this.runId, step: e.step, valLoss: e.valLoss, tokensSeen: this.tokensSeen, ...(metrics ? { metrics } : {}) };
    }
    if (e.type === 'test') {
      return { type: 'test', runId: this.runId, step: e.step, metrics: finite(e.metrics) ?? {}, ...(e.confusion ? { confusion: e.confusion } : {}) };
    }
    return undefined;
  }
}

/** The finite measures of a map (NaN and infinities cannot be drawn), or undefined when none is left. */
function finite(m: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!m) return undefined;
  const kept = Object.entries(m).filter(([, v]) => Number.isFinite(v));
  return kept.length ? Object.fromEntries(kept) : undefined;
}
