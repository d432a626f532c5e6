// Turns a callback-style streaming call (a worker request that pushes notifications while it runs and
// resolves when done) into an AsyncIterable, so PanelBackend.generate can be written as one call.
// Items are buffered until the consumer takes them; the call's error, or the signal, ends the stream.
import { CancelledError } from '../../core/errors';

export async function* streamOf<T>(run: (push: (item: T) => void) => Promise<unknown>, signal?: AbortSignal): AsyncGenerator<T> {
  const buffer: T[] = [];
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  run((item) => {
    buffer.push(item);
    poke();
  }).then(
    () => {
      finished = true;
      poke();
    },
    (e: unknown) => {
      failure = e ?? new Error('The stream failed.');
      finished = true;
      poke();
    },
  );
  const onAbort = () => poke();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (buffer.length) {
        yield buffer.shift() as T;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) return;
      if (signal?.aborted) throw new CancelledError();
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
