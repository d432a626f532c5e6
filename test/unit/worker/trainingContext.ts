// A job context for the worker's training and fine-tuning jobs that collects the training events they notify.
import type { NotificationName, NotificationOf, TrainEventWire } from '../../../src/protocol/worker';
import type { JobContext } from '../../../src/worker/server';

export function trainingContext(): { ctx: JobContext; events: TrainEventWire[] } {
  const events: TrainEventWire[] = [];
  const ctx: JobContext = {
    signal: new AbortController().signal,
    notify: <N extends NotificationName>(name: N, params: NotificationOf<N>) => {
      if (name === 'train/didEvent') events.push(params as TrainEventWire);
    },
  };
  return { ctx, events };
}
