// Turns core training events (`pretrain`'s TrainEvent, as the worker forwards them) into the panel's
// training events: tags them with the run, gives a validation point the tokens seen at its step (core's
// eval event does not carry it), and drops points the panel cannot plot (a NaN or infinite loss from a
// diverging run; the run's state change tells that story).
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
      return { type: 'eval', runId: this.runId, step: e.step, valLoss: e.valLoss, tokensSeen: this.tokensSeen };
    }
    return undefined;
  }
}
