// The worker's request loop, independent of the transport: it checks each incoming message against the
// protocol, runs the method's handler with an AbortSignal, forwards its notifications and sends exactly
// one response. One training job at a time; every other request may run alongside. The process entry
// (main.ts) wires it to Node IPC; tests drive it in-process.
import { LlmLabError, fileSystemError, isLlmLabError } from '../core/errors';
import type { NotificationName, NotificationOf, ParamsOf, ResultOf, WireError, WorkerMethod, WorkerToHost } from '../protocol/worker';
import { hostToWorker, workerRequests } from '../protocol/worker';
import { ProtocolError } from '../protocol/validate';

export interface JobContext {
  /** Fires when the host cancels this request (or the worker shuts down). */
  signal: AbortSignal;
  /** Pushes a notification tied to this request. */
  notify<N extends NotificationName>(method: N, params: NotificationOf<N>): void;
}

export type Handler<M extends WorkerMethod> = (params: ParamsOf<M>, ctx: JobContext) => Promise<ResultOf<M>>;
export type Handlers = { [M in WorkerMethod]?: Handler<M> };

/** Methods that hold the single training slot. */
const EXCLUSIVE: ReadonlySet<WorkerMethod> = new Set<WorkerMethod>(['train/start', 'finetune/start']);

export function toWireError(caught: unknown): WireError {
  const e = fileSystemError(caught) ?? caught;
  if (isLlmLabError(e)) return { code: e.code, message: e.message };
  if (e instanceof ProtocolError) return { code: 'protocol', message: `Malformed request: ${e.message}` };
  const message = e instanceof Error ? e.message : String(e);
  if (/out of memory|allocation failed|array buffer allocation/i.test(message)) {
    return { code: 'out-of-memory', message: `The job ran out of memory (${message}). Choose a smaller preset or batch size.` };
  }
  return { code: 'internal', message: message || 'Unknown error in the worker.' };
}

export class WorkerServer {
  private readonly running = new Map<number, AbortController>();
  private exclusiveId: number | undefined;

  constructor(
    private readonly handlers: Handlers,
    private readonly send: (msg: WorkerToHost) => void,
  ) {}

  /** Ids of requests still running. */
  get activeIds(): number[] {
    return [...this.running.keys()];
  }

  /** Handles one raw message from the host. Malformed messages are answered when they carry an id. */
  async receive(raw: unknown): Promise<void> {
    let msg;
    try {
      msg = hostToWorker(raw, 'message');
    } catch (e) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'number' && Number.isInteger(id) && id > 0) this.send({ kind: 'response', id, result: undefined, error: toWireError(e) });
      return;
    }
    if (msg.kind === 'cancel') {
      this.running.get(msg.id)?.abort();
      return;
    }
    await this.run(msg.id, msg.method, msg.params);
  }

  /** Aborts every running request (used on shutdown). */
  cancelAll(): void {
    for (const c of this.running.values()) c.abort();
  }

  private async run(id: number, method: WorkerMethod, rawParams: unknown): Promise<void> {
    if (this.running.has(id)) {
      this.send({ kind: 'response', id, result: undefined, error: { code: 'protocol', message: `Request id ${id} is already running.` } });
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    const exclusive = EXCLUSIVE.has(method);
    try {
      const handler = this.handlers[method] as Handler<WorkerMethod> | undefined;
      if (!handler) throw new ProtocolError('method', `the worker has no handler for ${method}`);
      const params = workerRequests[method].params(rawParams, 'params') as ParamsOf<WorkerMethod>;
      if (exclusive) {
        if (this.exclusiveId !== undefined) {
          throw new LlmLabError('busy', 'A training job is already running. Stop it (LLM Lab: Stop Training) before starting another.');
        }
        this.exclusiveId = id;
      }
      const ctx: JobContext = {
        signal: controller.signal,
        notify: (name, params) => {
          if (!controller.signal.aborted || name === 'train/didEvent') this.send({ kind: 'notify', id, method: name, params });
        },
      };
      const result = await handler(params as never, ctx);
      this.send({ kind: 'response', id, result });
    } catch (e) {
      this.send({ kind: 'response', id, result: undefined, error: toWireError(e) });
    } finally {
      this.running.delete(id);
      if (exclusive && this.exclusiveId === id) this.exclusiveId = undefined;
    }
  }
}
