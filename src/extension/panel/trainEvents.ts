// Turns core training events (`pretrain`'s TrainEvent, as the worker forwards them) into the panel's
// training events: tags them with the run, gives a validation point the tokens seen at its step (core's
// eval event does not carry it), and drops points the panel cannot plot (a NaN or infinite loss from a
// diverging run; the run's state change tells that story).
import type { PanelTrainingEvent } from './backend';

/** The training events core emits that the panel plots; other types are ignored. */
export type CoreTrainEvent =
  | { type: 'step'; step: number; totalSteps: number; loss: number; lr: number; tokensSeen: number; tokensPerSec: number }
  | { type: 'eval'; step: number; valLoss: number }
  | { type: string };

export class TrainEventMapper {
  private tokensSeen = 0;

  constructor(readonly runId: string) {}

  map(e: CoreTrainEvent): PanelTrainingEvent | undefined {
    if (e.type === 'step' && 'loss' in e) {
      this.tokensSeen = e.tokensSeen;
      if (!Number.isFinite(e.loss) || !Number.isFinite(e.lr)) return undefined;
      return {
        type: 'step',
        runId: this.runId,
        step: e.step,
        totalSteps: e.totalSteps,
        loss: e.loss,
        lr: e.lr,
        tokensSeen: e.tokensSeen,
        tokensPerSec: Number.isFinite(e.tokensPerSec) ? e.tokensPerSec : 0,
      };
    }
    if (e.type === 'eval' && 'valLoss' in e) {
      if (!Number.isFinite(e.valLoss)) return undefined;
      return { type: 'eval', runId: this.runId, step: e.step, valLoss: e.valLoss, tokensSeen: this.tokensSeen };
    }
    return undefined;
  }
}
