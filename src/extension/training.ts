// Runs one training job at a time through the worker — pretraining or any fine-tuning task — and shows it:
// a progress notification with cancel, a status bar item (step, loss, accuracy, tokens/s), a log in the
// output channel, and an event for the panel. A crash of the worker ends the job as `crashed`; the run can be
// resumed from its last checkpoint.
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import { CancelledError, LlmLabError } from '../core/errors';
import type { RunEnding } from '../protocol/training';
import type { RunJob, TrainEventWire } from '../protocol/worker';
import { isFinetuneJob } from '../protocol/worker';
import type { Notifier } from './notify';
import { latestModel } from './runs';
import type { WorkerClient } from './workerClient';
import { WorkerCrashError } from './workerClient';

export interface TrainOutcome {
  runDir: string;
  runName: string;
  status: RunEnding;
  /** Last step reported. */
  steps: number;
  finalLoss: number | null;
  /** Newest model folder the run saved, if any. */
  checkpointDir: string | null;
  /** First step this session trained (> 1 when resumed). */
  firstStep: number | null;
  /** The job that ran. */
  job: RunJob;
  /** A fine-tuning run's test measures in words (e.g. "test accuracy 93.33%"), when it reported them. */
  testSummary?: string;
  error?: string;
}

export interface RunningTraining {
  runName: string;
  runDir: string;
  job: RunJob;
  startedAt: number;
  last?: Extract<TrainEventWire, { type: 'step' }>;
  lastCheckpoint?: { step: number; dir: string };
  done: Promise<TrainOutcome>;
}

export interface TrainingEvent {
  runName: string;
  runDir: string;
  event: TrainEventWire;
}

function fmtRate(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

/** What a job trains, in words, for the log and the notification. */
export function describeJob(job: RunJob): string {
  if (!isFinetuneJob(job)) return `preset ${job.preset}, ${job.steps} steps, batch ${job.batchSize}`;
  const base = job.modelDir ?? `fresh ${job.preset} weights`;
  const how = job.lora ? `LoRA rank ${job.lora.rank}` : job.task === 'classify' ? (job.trainable ?? 'last-block') : 'all weights';
  return `${job.task === 'classify' ? 'classifier' : 'instruction'} fine-tuning of ${base} on ${job.dataFile} (${how}${job.epochs ? `, ${job.epochs} epochs` : ''})`;
}

/** The command a finished run's notification offers next. */
function nextStep(job: RunJob): [label: string, command: string] {
  if (!isFinetuneJob(job)) return ['Generate from Selection', 'llmLab.generateFromSelection'];
  return job.task === 'classify' ? ['Classify Selection', 'llmLab.classifySelection'] : ['Ask the Model', 'llmLab.askModel'];
}

export class TrainingController implements vscode.Disposable {
  private readonly statusItem = vscode.window.createStatusBarItem('llmLab.training', vscode.StatusBarAlignment.Left, 50);
  private readonly didEvent = new vscode.EventEmitter<TrainingEvent>();
  private readonly didEnd = new vscode.EventEmitter<TrainOutcome>();
  private readonly didStart = new vscode.EventEmitter<RunningTraining>();
  private abort: AbortController | undefined;
  /** Each training event, for the panel (charts) and tests. */
  readonly onDidEvent = this.didEvent.event;
  /** When a job ends, however it ends. */
  readonly onDidEnd = this.didEnd.event;
  /** When a job has been handed to the worker. */
  readonly onDidStart = this.didStart.event;
  current: RunningTraining | undefined;

  constructor(
    private readonly worker: WorkerClient,
    private readonly output: vscode.OutputChannel,
    private readonly notifier: Notifier,
  ) {
    this.statusItem.name = 'LLM Lab Training';
    this.statusItem.command = 'llmLab.stopTraining';
  }

  get isRunning(): boolean {
    return this.current !== undefined;
  }

  get statusText(): string | undefined {
    return this.current ? this.statusItem.text : undefined;
  }

  /** Starts a job; resolves when it ends. Throws `busy` when one is already running. */
  start(runName: string, job: RunJob): Promise<TrainOutcome> {
    if (this.current) {
      throw new LlmLabError('busy', `Training "${this.current.runName}" is already running. Stop it first (LLM Lab: Stop Training).`);
    }
    const abort = new AbortController();
    this.abort = abort;
    const running: RunningTraining = { runName, runDir: job.runDir, job, startedAt: Date.now(), done: undefined as unknown as Promise<TrainOutcome> };
    this.current = running;
    this.statusItem.text = `$(sync~spin) ${runName}: starting`;
    this.statusItem.tooltip = 'LLM Lab training. Click to stop.';
    this.statusItem.show();
    this.output.appendLine(`${job.resume ? 'Resuming' : 'Starting'} run ${runName} in ${job.runDir}: ${describeJob(job)}.`);
    running.done = Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LLM Lab: training ${runName}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        let lastPct = 0;
        let firstStep: number | null = null;
        let accuracy = '';
        let testSummary = '';
        const onEvent = (event: TrainEventWire) => {
          this.log(event);
          if (event.type === 'test') testSummary = Object.entries(event.metrics).filter(([k]) => /accuracy/i.test(k)).map(([k, v]) => `test ${k.replace(/^test/i, '').toLowerCase()} ${(100 * v).toFixed(2)}%`).join(', ');
          if (event.type === 'eval' && event.metrics?.valAccuracy !== undefined) accuracy = ` · val acc ${(100 * event.metrics.valAccuracy).toFixed(1)}%`;
          if (event.type === 'step') {
            firstStep ??= event.step;
            running.last = event;
            this.statusItem.text = `$(pulse) ${runName}: step ${event.step}/${event.totalSteps} · loss ${event.loss.toFixed(3)}${accuracy} · ${fmtRate(event.tokensPerSec)} tok/s`;
            const pct = (100 * event.step) / Math.max(1, event.totalSteps);
            progress.report({ increment: pct - lastPct, message: `step ${event.step}/${event.totalSteps}, loss ${event.loss.toFixed(3)}` });
            lastPct = pct;
          } else if (event.type === 'checkpoint') {
            running.lastCheckpoint = { step: event.step, dir: event.dir };
          } else if (event.type === 'responses') {
            // After instruction fine-tuning, the model answers the test split.
            this.statusItem.text = `$(sync~spin) ${runName}: test responses ${event.done}/${event.total}`;
            progress.report({ message: `answering the test split: ${event.done} of ${event.total}` });
          }
          this.didEvent.fire({ runName, runDir: job.runDir, event });
        };
        let outcome: TrainOutcome;
        try {
          const hooks = {
            signal: abort.signal,
            onNotify: (n: { method: string; params: unknown }) => {
              if (n.method === 'train/didEvent') onEvent(n.params as TrainEventWire);
            },
          };
          const res = isFinetuneJob(job) ? await this.worker.request('finetune/start', job, hooks) : await this.worker.request('train/start', job, hooks);
          outcome = {
            runDir: job.runDir, runName, status: res.cancelled ? 'cancelled' : 'completed', steps: res.steps, finalLoss: res.finalLoss,
            checkpointDir: res.checkpointDir ?? running.lastCheckpoint?.dir ?? null, firstStep, job,
            ...(testSummary ? { testSummary } : {}),
          };
        } catch (e) {
          const status: RunEnding =
            e instanceof CancelledError ? 'cancelled'
            : e instanceof WorkerCrashError ? 'crashed'
            : e instanceof LlmLabError && e.code === 'diverged' ? 'diverged'
            : 'failed';
          const saved = await latestModel(job.runDir).catch(() => undefined);
          outcome = {
            runDir: job.runDir, runName, status, steps: running.last?.step ?? 0, finalLoss: running.last?.loss ?? null,
            checkpointDir: running.lastCheckpoint?.dir ?? saved ?? null, firstStep, job, error: (e as Error).message,
          };
          if (status === 'failed' || status === 'diverged') this.notifier.fail(`Training ${runName}`, e);
        }
        return outcome;
      },
    ));
    void running.done.then((o) => this.finish(o));
    this.didStart.fire(running);
    return running.done;
  }

  /** Asks the running job to stop (it writes a checkpoint first); resolves when it has ended. */
  async stop(): Promise<TrainOutcome | undefined> {
    const running = this.current;
    if (!running) return undefined;
    this.statusItem.text = `$(sync~spin) ${running.runName}: stopping`;
    this.abort?.abort();
    return running.done;
  }

  private log(e: TrainEventWire): void {
    const out = this.output;
    switch (e.type) {
      case 'step':
        out.appendLine(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${fmtRate(e.tokensPerSec)} tok/s`);
        break;
      case 'start': {
        const trains = e.trainableParameters !== undefined && e.trainableParameters !== e.parameters ? `, ${e.trainableParameters.toLocaleString('en-US')} of them trained` : '';
        const rows = e.task && e.task !== 'pretrain' ? `${e.trainWindows} training examples` : `${e.trainWindows} windows`;
        out.appendLine(
          `${e.resumed ? `Resumed at step ${e.step}` : 'Started'}: ${(e.parameters / 1e6).toFixed(2)}M parameters${trains}, ${e.trainTokens} training and ${e.valTokens} validation tokens, ${rows} (${e.stepsPerEpoch} steps an epoch).`,
        );
        break;
      }
      case 'eval': {
        const measures = Object.entries(e.metrics ?? {}).map(([k, v]) => `${k} ${/accuracy/i.test(k) ? `${(100 * v).toFixed(2)}%` : v.toFixed(4)}`);
        out.appendLine(`eval at step ${e.step}: validation loss ${e.valLoss.toFixed(4)}${e.bestValLoss !== undefined ? ` (best ${e.bestValLoss.toFixed(4)})` : ''}${measures.length ? `, ${measures.join(', ')}` : ''}`);
        break;
      }
      case 'test': {
        const measures = Object.entries(e.metrics).map(([k, v]) => `${k} ${/accuracy/i.test(k) ? `${(100 * v).toFixed(2)}%` : v.toFixed(4)}`);
        out.appendLine(`test split at step ${e.step}: ${measures.join(', ')}`);
        if (e.confusion) {
          out.appendLine(`confusion (rows true, columns predicted: ${e.confusion.labels.join(', ')}):`);
          e.confusion.counts.forEach((row, i) => out.appendLine(`  ${e.confusion!.labels[i]}: ${row.join(' ')}`));
        }
        break;
      }
      case 'done':
        out.appendLine(`done at step ${e.step}: ${e.status}`);
        break;
      case 'sample':
        out.appendLine(`sample at step ${e.step}: ${JSON.stringify(e.text)}`);
        break;
      case 'checkpoint':
        out.appendLine(`checkpoint at step ${e.step}: ${e.dir}`);
        break;
      case 'log':
        out.appendLine(e.message);
        break;
      case 'responses':
        if (e.file) out.appendLine(`test responses: ${e.total} written to ${e.file}`);
        break;
    }
  }

  private async finish(o: TrainOutcome): Promise<void> {
    this.current = undefined;
    this.abort = undefined;
    this.statusItem.hide();
    this.output.appendLine(`Run ${o.runName} ${o.status} after ${o.steps} steps${o.checkpointDir ? `; last checkpoint ${o.checkpointDir}` : ''}.`);
    if ((o.status === 'failed' || o.status === 'diverged') && !o.checkpointDir) {
      // Nothing usable was written: leave no half-made run behind.
      await fs.rm(o.runDir, { recursive: true, force: true }).catch(() => undefined);
    }
    this.didEnd.fire(o);
    const loss = o.finalLoss !== null ? `, loss ${o.finalLoss.toFixed(3)}` : '';
    if (o.status === 'completed') {
      const [label, command] = nextStep(o.job);
      void this.notifier.info(`Training ${o.runName} finished: ${o.steps} steps${loss}${o.testSummary ? `; ${o.testSummary}` : ''}.`, label).then((a) => {
        if (a) void vscode.commands.executeCommand(command);
      });
    } else if (o.status === 'cancelled') {
      void this.notifier.info(`Training ${o.runName} stopped at step ${o.steps}${o.checkpointDir ? ' (checkpoint saved)' : ''}.`, 'Resume Training').then((a) => {
        if (a) void vscode.commands.executeCommand('llmLab.resumeTraining', { runDir: o.runDir });
      });
    } else if (o.status === 'crashed') {
      const where = o.checkpointDir ? 'It can resume from its last checkpoint.' : 'It had not saved a checkpoint yet; start it again.';
      void this.notifier.error(`The worker process stopped during training ${o.runName} (at step ${o.steps}). ${where}`, 'Resume Training', 'Show Log').then((a) => {
        if (a === 'Resume Training') void vscode.commands.executeCommand('llmLab.resumeTraining', { runDir: o.runDir });
        else if (a === 'Show Log') this.output.show();
      });
    }
  }

  dispose(): void {
    this.abort?.abort();
    this.statusItem.dispose();
    this.didEvent.dispose();
    this.didEnd.dispose();
    this.didStart.dispose();
  }
}
