// The host's side of the worker protocol: forks the worker (VS Code's own runtime with
// ELECTRON_RUN_AS_NODE), sends typed requests, checks every answer and notification against the
// protocol, bridges AbortSignal to `cancel`, and turns an unexpected exit into a WorkerCrashError for
// every pending request plus an `onDidExit` event. It does not import `vscode`, so unit tests drive it
// against the real worker bundle; the panel uses it for training events, attention maps and streaming.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { CancelledError, LlmLabError } from '../core/errors';
import type { LlmLabErrorCode } from '../core/errors';
import type { NotificationName, NotificationOf, ParamsOf, ResultOf, WorkerMethod } from '../protocol/worker';
import { workerNotifications, workerRequests, workerToHost } from '../protocol/worker';

/** A notification with its name, as the listeners see it. */
export type WorkerNotice = { [N in NotificationName]: { method: N; params: NotificationOf<N> } }[NotificationName];

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the host asked the worker to stop (dispose/restart). */
  expected: boolean;
  /** Methods of the requests that were running when it exited. */
  pending: WorkerMethod[];
}

/** The worker exited while requests were running. */
export class WorkerCrashError extends Error {
  constructor(readonly exit: WorkerExit) {
    const how = exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`;
    super(
      `The LLM Lab worker process ${how}${exit.signal === 'SIGKILL' ? ', perhaps for lack of memory' : ''}. ` +
        'The editor is fine; the job stopped at its last checkpoint and can be resumed.',
    );
    this.name = 'WorkerCrashError';
  }
}

/** The worker answered with an error that is not one of the library's user-facing codes. */
export class WorkerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

const LIBRARY_CODES: ReadonlySet<string> = new Set<LlmLabErrorCode>([
  'bad-argument', 'not-found', 'bad-data', 'bad-checkpoint', 'backend', 'out-of-memory', 'diverged', 'busy', 'io', 'network',
]);

export interface WorkerClientOptions {
  /** Absolute path of dist/worker.js. */
  workerPath: string;
  /** Runtime to fork with; VS Code's own (`process.execPath`) by default. */
  execPath?: string;
  /** Extra environment for the worker (e.g. LLM_LAB_BACKEND). */
  env?: Record<string, string>;
  execArgv?: string[];
  /** Receives the worker's stderr/stdout lines and lifecycle notes. */
  log?: (line: string) => void;
  /** How long to wait for the worker's `ready` (ms). */
  startTimeoutMs?: number;
  /** Niceness (CPU priority, 0 normal, up to 19 lowest) the worker runs at; unchanged when absent. */
  niceness?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onNotify?: (notice: WorkerNotice) => void;
}

interface Pending {
  method: WorkerMethod;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onNotify?: (notice: WorkerNotice) => void;
}

type Listener<T> = (value: T) => void;

export class WorkerClient {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = new WeakSet<ChildProcess>();
  private readonly exitListeners = new Set<Listener<WorkerExit>>();
  private readonly noticeListeners = new Set<(notice: WorkerNotice, requestId: number, method: WorkerMethod) => void>();
  private disposed = false;

  constructor(private readonly opts: WorkerClientOptions) {}

  /** Process id of the running worker, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Methods of the requests in flight. */
  get inFlight(): WorkerMethod[] {
    return [...this.pending.values()].map((p) => p.method);
  }

  /** Called whenever the worker exits; returns an unsubscribe function. */
  onDidExit(listener: Listener<WorkerExit>): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Sees every notification of every request (e.g. training events for the panel). */
  onNotification(listener: (notice: WorkerNotice, requestId: number, method: WorkerMethod) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /** Sends a request; resolves with its checked result, rejects with LlmLabError/WorkerError/WorkerCrashError. */
  async request<M extends WorkerMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    if (opts.signal?.aborted) throw new CancelledError();
    const child = await this.start();
    // A request cancelled while the worker was starting is never sent: its abort event has already fired.
    if (opts.signal?.aborted) throw new CancelledError();
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const onAbort = () => {
        if (this.pending.has(id) && child.connected) child.send({ kind: 'cancel', id });
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => opts.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        method,
        onNotify: opts.onNotify,
        resolve: (v) => {
          cleanup();
          resolve(v as ResultOf<M>);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      child.send({ kind: 'request', id, method, params }, (err) => {
        if (err) this.settle(id, undefined, new WorkerError('ipc', `Could not reach the worker: ${err.message}`));
      });
    });
  }

  /** Starts the worker if it is not running; resolves once it said `ready`. */
  start(): Promise<ChildProcess> {
    if (this.disposed) return Promise.reject(new CancelledError('LLM Lab is shutting down.'));
    if (this.ready) return this.ready;
    const log = this.opts.log ?? (() => undefined);
    const child = fork(this.opts.workerPath, [], {
      execPath: this.opts.execPath ?? process.execPath,
      execArgv: this.opts.execArgv ?? [],
      env: { ...process.env, ...this.opts.env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    if (this.opts.niceness !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, this.opts.niceness);
      } catch (e) {
        log(`Could not lower the worker's CPU priority: ${(e as Error).message}`);
      }
    }
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => chunk.split(/\r?\n/).filter(Boolean).forEach((l) => log(`[worker] ${l}`)));
    }
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new WorkerError('start', 'The LLM Lab worker did not start in time. See the LLM Lab output for details.'));
        this.stopChild(child);
      }, this.opts.startTimeoutMs ?? 30_000);
      child.on('message', (raw) => {
        let msg;
        try {
          msg = workerToHost(raw, 'worker message');
        } catch (e) {
          log(`Ignored a malformed message from the worker: ${(e as Error).message}`);
          return;
        }
        if (msg.kind === 'ready') {
          clearTimeout(timer);
          log(`Worker started (pid ${msg.pid}).`);
          resolve(child);
        } else if (msg.kind === 'response') {
          this.onResponse(msg.id, msg.result, msg.error);
        } else {
          this.onNotify(msg.id, msg.method, msg.params);
        }
      });
      child.on('error', (err) => log(`Worker error: ${err.message}`));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        // Only matters when it exits before `ready`: the requests waiting to be sent fail like pending ones.
        const expected = this.stopping.has(child);
        reject(expected ? new CancelledError('The LLM Lab worker was stopped.') : new WorkerCrashError({ code, signal, expected, pending: [] }));
        this.onExit(child, code, signal);
      });
    });
    this.ready.catch(() => undefined);
    return this.ready;
  }

  /** Stops the worker (pending requests fail with CancelledError); the next request starts a new one. */
  async restart(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.stopChild(child);
    await exited;
  }

  dispose(): void {
    this.disposed = true;
    if (this.child) this.stopChild(this.child);
  }

  private stopChild(child: ChildProcess): void {
    this.stopping.add(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000).unref();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = undefined;
    const expected = this.stopping.has(child);
    const exit: WorkerExit = { code, signal, expected, pending: this.inFlight };
    this.opts.log?.(`Worker exited (code ${code}, signal ${signal})${expected ? '' : ' unexpectedly'}.`);
    const error = expected ? new CancelledError('The LLM Lab worker was stopped.') : new WorkerCrashError(exit);
    for (const [id] of [...this.pending]) this.settle(id, undefined, error);
    for (const l of this.exitListeners) l(exit);
  }

  private onResponse(id: number, result: unknown, error: { code: string; message: string } | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (error) {
      const e =
        error.code === 'cancelled'
          ? new CancelledError(error.message)
          : LIBRARY_CODES.has(error.code)
            ? new LlmLabError(error.code as LlmLabErrorCode, error.message)
            : new WorkerError(error.code, error.message);
      this.settle(id, undefined, e);
      return;
    }
    try {
      this.settle(id, workerRequests[p.method].result(result, `${p.method} result`));
    } catch (e) {
      this.settle(id, undefined, new WorkerError('protocol', `The worker sent a malformed answer: ${(e as Error).message}`));
    }
  }

  private onNotify(id: number, method: NotificationName, raw: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    let notice: WorkerNotice;
    try {
      notice = { method, params: workerNotifications[method](raw, method) } as WorkerNotice;
    } catch (e) {
      this.opts.log?.(`Ignored a malformed ${method} notification: ${(e as Error).message}`);
      return;
    }
    p.onNotify?.(notice);
    for (const l of this.noticeListeners) l(notice, id, p.method);
  }

  private settle(id: number, value: unknown, error?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (error !== undefined) p.reject(error);
    else p.resolve(value);
  }
}
