// What a training run (pretraining or a fine-tuning task) reports while it works: the events passed to `onEvent` and appended, one JSON line
// each, to the run's metrics.jsonl (so the extension's charts and the CLI read the same record of a run).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { LlmLabError } from '../errors';

export const METRICS_FILE = 'metrics.jsonl';
export const RUN_FILE = 'run.json';

export type TrainEvent =
  | {
      type: 'start';
      /** Steps already done (non-zero when resumed). */
      step: number;
      totalSteps: number;
      resumed: boolean;
      parameters: number;
      /** Parameters that train (the rest are frozen); absent in runs made before tasks could freeze any. */
      trainableParameters?: number;
      /** The task: 'pretrain', 'classify', … (absent: 'pretrain'). */
      task?: string;
      trainTokens: number;
      valTokens: number;
      /** Training rows (windows of a corpus, or examples of a fine-tuning set) and optimizer steps per pass over them. */
      trainWindows: number;
      stepsPerEpoch: number;
    }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      /** Mean training loss of this step's batch. */
      loss: number;
      lr: number;
      /** Global gradient norm before clipping. */
      gradNorm: number;
      tokensSeen: number;
      /** Training throughput of this session (tokens per second of step time). */
      tokensPerSec: number;
      /** Training time of the whole run so far, across resumes. */
      elapsedMs: number;
    }
  | {
      type: 'eval';
      step: number;
      valLoss: number;
      bestValLoss: number;
      /** A task's other measures at this step, e.g. { valAccuracy, trainLoss, trainAccuracy }. */
      metrics?: Record<string, number>;
    }
  | { type: 'sample'; step: number; prompt: string; text: string }
  | { type: 'checkpoint'; step: number; dir: string }
  | {
      type: 'test';
      step: number;
      /** A task's measures on its held-out test split at the end of the run, e.g. { loss, accuracy }. */
      metrics: Record<string, number>;
      /** Classification: counts[i][j] = test rows of class labels[i] predicted as labels[j]. */
      confusion?: { labels: string[]; counts: number[][] };
    }
  | { type: 'done'; step: number; status: 'completed' | 'cancelled' | 'diverged' };

/** Appends events to `<run>/metrics.jsonl`, each with the wall-clock time. */
export class MetricsLog {
  private pending: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(readonly file: string) {}

  static inRun(outDir: string): MetricsLog {
    return new MetricsLog(path.join(outDir, METRICS_FILE));
  }

  /** Queues one line; write errors surface at flush(). */
  write(e: TrainEvent): void {
    const line = JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n';
    this.pending = this.pending.then(() => fsp.appendFile(this.file, line)).catch((err) => {
      this.failed = err;
    });
  }

  async flush(): Promise<void> {
    await this.pending;
    if (this.failed) {
      throw new LlmLabError('io', `Could not write ${this.file}: ${(this.failed as Error).message}. Check that the run folder is writable.`);
    }
  }
}

/** Reads a run's metrics.jsonl (for charts); lines that do not parse are skipped. */
export async function readMetrics(outDir: string): Promise<Array<TrainEvent & { time: string }>> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(outDir, METRICS_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: Array<TrainEvent & { time: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line cut by a crash mid-append
    }
  }
  return out;
}
