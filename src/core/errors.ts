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

/**
 * Lets the event loop run (a Ctrl-C handler, a cancel message from the host) and then throws CancelledError
 * when the signal has fired. A loop whose awaits all settle at once (a cpu tensor's data()) never gives a
 * signal handler the chance to run, so every long loop calls this once a step.
 */
export async function yieldAndCheck(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'something else already exists there',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'it does not exist',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EMFILE: 'too many files are open',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'the path has a loop of symbolic links',
};

const FS_ACTIONS: Record<string, string> = {
  mkdir: 'create the folder',
  open: 'open',
  write: 'write',
  read: 'read',
  rename: 'move a file into',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list',
  stat: 'look at',
  lstat: 'look at',
  copyfile: 'copy to',
  fsync: 'save',
};

/**
 * The user-facing form of a file-system error from Node (a folder that is a file, a read-only or full disk,
 * permission denied): what could not be done to which path and why, as an 'io' LlmLabError. Undefined for
 * anything that is not such an error.
 */
export function fileSystemError(e: unknown): LlmLabError | undefined {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !(err.code in FS_REASONS) || typeof err.syscall !== 'string') return undefined;
  const action = FS_ACTIONS[err.syscall] ?? err.syscall;
  const where = err.path ? ` ${err.path}` : '';
  return new LlmLabError(
    'io',
    `Could not ${action}${where}: ${FS_REASONS[err.code]} (${err.code}). Check the path and its permissions, or choose another location.`,
  );
}

