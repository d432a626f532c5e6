// What a pretraining run reports while it works: the events passed to `onEvent` and appended, one JSON line
// each, to the run's metrics.jsonl (so the extension's charts and the CLI read the same record of a run).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { TrainEvent } from '../../protocol/training';
import { METRICS_FILE } from '../checkpoint/layout';
import { LlmLabError } from '../errors';

export { METRICS_FILE, RUN_FILE } from '../checkpoint/layout';

/** The event shapes are declared once, as checkers, in src/protocol/training.ts. */
export type { TrainEvent } from '../../protocol/training';

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
