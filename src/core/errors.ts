// Typed errors of the LLM Lab library. Each carries a message a user can act on: what was wrong and what to
// do. The CLI prints `message` as one line; the extension shows it in a notification. Never a stack trace
// for a user mistake.

/** Why a user-facing error happened; lets callers offer the right next step without parsing messages. */
export type LlmLabErrorCode =
  | 'bad-argument' // a flag, setting or argument has a value that cannot work
  | 'not-found' // a file, folder or model that was named does not exist
  | 'bad-data' // input data that cannot be used (empty corpus, undecodable, too short)
  | 'bad-checkpoint' // a model folder or checkpoint file that is missing, truncated or mismatched
  | 'backend' // a requested compute backend cannot be used here
  | 'out-of-memory' // a model or batch that will not fit
  | 'diverged' // training produced a NaN/Inf loss
  | 'busy' // a job is already running
  | 'cancelled' // the user cancelled the work
  | 'io' // a file could not be read or written
  | 'network'; // a server could not be reached, refused, or a transfer broke off

export class LlmLabError extends Error {
  constructor(
    readonly code: LlmLabErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LlmLabError';
  }
}

/** Thrown when an AbortSignal fires; work stopped cleanly and nothing was half-written. */
export class CancelledError extends LlmLabError {
  constructor(message = 'Cancelled.') {
    super('cancelled', message);
    this.name = 'CancelledError';
  }
}

export function isLlmLabError(e: unknown): e is LlmLabError {
  return e instanceof LlmLabError;
}

/** Throws CancelledError when the signal has fired. Call at every step of long work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
