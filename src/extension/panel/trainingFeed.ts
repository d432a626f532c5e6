// Turns a training source shaped like the extension's TrainingController (per-run training events, and
// how each job ended) into the panel's training feed: steps and evals tagged with the run, a `running`
// state when a run starts reporting, and its ending as the state it ends in.
import type { RunEnding } from '../../protocol/training';
import type { TrainEventWire } from '../../protocol/worker';
import type { PanelTrainingEvent, Subscription } from './backend';
import { TrainEventMapper } from './trainEvents';

/** What the feed needs; a vscode.Event fits `onDidEvent`/`onDidEnd` as they are. */
export interface TrainingSource {
  onDidEvent(listener: (e: { runName: string; event: TrainEventWire }) => void): Subscription;
  onDidEnd(listener: (o: { runName: string; status: RunEnding; error?: string }) => void): Subscription;
}

/** Endings whose error message the panel shows beside the state. */
const SHOWS_ERROR: ReadonlySet<RunEnding> = new Set(['diverged', 'crashed', 'failed']);

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
        listener({ type: 'state', runId: o.runName, state: o.status, ...(o.error && SHOWS_ERROR.has(o.status) ? { message: o.error } : {}) });
      }),
    ];
    return { dispose: () => subs.forEach((s) => s.dispose()) };
  };
}
