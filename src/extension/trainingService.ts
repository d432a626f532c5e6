// The one way the editor starts, resumes and stops training — pretraining and fine-tuning: the palette
// commands, the lab panel's buttons and the actions on notifications all go through this service, so every path runs the same checks (files,
// preset, memory, corpus) and reports a failure the same way.
import type { FinetuneArgs } from './commands/finetune';
import { finetuneClassifierCommand, finetuneInstructCommand } from './commands/finetune';
import type { PretrainArgs } from './commands/pretrain';
import { pretrainCommand, resumeCommand, stopCommand } from './commands/pretrain';
import type { Lab } from './lab';
import type { TrainOutcome } from './training';

export type { PretrainArgs } from './commands/pretrain';
export type { FinetuneArgs } from './commands/finetune';

export class TrainingService {
  constructor(private readonly lab: Lab) {}

  /** Asks what to train (unless `args` say), checks it, and trains; resolves with the outcome when the run ends. */
  pretrain(args: PretrainArgs = {}): Promise<TrainOutcome | undefined> {
    return pretrainCommand(this.lab, args);
  }

  /** Asks what to fine-tune a classifier on (unless `args` say), shows the summary, and trains; resolves when the run ends. */
  finetuneClassifier(args: FinetuneArgs = {}): Promise<TrainOutcome | undefined> {
    return finetuneClassifierCommand(this.lab, args);
  }

  /** The same for instruction fine-tuning. */
  finetuneInstruct(args: FinetuneArgs = {}): Promise<TrainOutcome | undefined> {
    return finetuneInstructCommand(this.lab, args);
  }

  /** Continues a run — pretraining or fine-tuning — (asked for when `runDir` is not given) from its latest checkpoint; resolves when it ends. */
  resume(args: { runDir?: string } = {}): Promise<TrainOutcome | undefined> {
    return resumeCommand(this.lab, args);
  }

  /** Stops the running job (it saves a checkpoint first); resolves when it has ended. */
  stop(): Promise<TrainOutcome | undefined> {
    return stopCommand(this.lab);
  }

  /**
   * Starts `pretrain` or `resume` for a button: resolves once the run is going (or the person stopped at a
   * question), without waiting for the run to end; a failure before the start rejects, for the caller to show.
   */
  async launch(run: () => Promise<TrainOutcome | undefined>): Promise<void> {
    let sub: { dispose(): void } | undefined;
    const started = new Promise<void>((resolve) => (sub = this.lab.training.onDidStart(() => resolve())));
    const finished = run();
    finished.catch(() => undefined); // a failure after the start is reported by the training controller
    try {
      await Promise.race([started, finished.then(() => undefined)]);
    } finally {
      sub?.dispose();
    }
  }
}
