// Turns a training source shaped like the extension's TrainingController (per-run core training events,
// and an outcome when a job ends) into the panel's training feed: steps and evals tagged with the run,
// a `running` state when a run starts reporting, and its end state (finished, stopped, failed).
import type { PanelTrainingEvent, Subscription } from './backend';
import type { CoreTrainEvent } from './trainEvents';
import { TrainEventMapper } from './trainEvents';

export type TrainOutcomeStatus = 'finished' | 'cancelled' | 'crashed' | 'failed';

/** What the feed needs; a vscode.Event fits `onDidEvent`/`onDidEnd` as they are. */
export interface TrainingSource {
  onDidEvent(listener: (e: { runName: string; event: CoreTrainEvent }) => void): Subscription;
  onDidEnd(listener: (o: { runName: string; status: TrainOutcomeStatus; error?: string }) => void): Subscription;
}

const END_STATE = { finished: 'finished', cancelled: 'stopped', crashed: 'failed', failed: 'failed' } as const;

/** A PanelBackend.onTrainingEvent over the source. */
export function panelTrainingFeed(source: TrainingSource): (listener: (e: PanelTrainingEvent) => void) => Subscription {
  return (listener) => {
    let mapper: TrainEventMapper | undefined;
    const subs = [
      source.onDidEvent(({ runName, event }) => {
        if (mapper?.runId !== runName) {
          mapper = new TrainEventMapper(runName);
          listener({ type: 'state', runId: runName, state: 'running' });
        }
        const e = mapper.map(event);
        if (e) listener(e);
      }),
      source.onDidEnd((o) => {
        mapper = undefined;
        const state = END_STATE[o.status];
        listener({ type: 'state', runId: o.runName, state, ...(o.error && state === 'failed' ? { message: o.error } : {}) });
      }),
    ];
    return { dispose: () => subs.forEach((s) => s.dispose()) };
  };
}
