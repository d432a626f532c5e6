// Training: the one loop every task shares (trainer.ts), pretraining as a task of it, the options and events,
// the schedule and optimizer it uses, run estimates.
// See README "Training and checkpoints" for the run-folder layout and the defaults.
export { runTraining, requireGradients } from './trainer';
export type { BatchSource, Evaluation, LoopOptions, RunPlace, TrainHooks, TrainingTask } from './trainer';
export { pretrain } from './pretrain';
export type { PretrainHooks, TrainResult } from './pretrain';
export { PRETRAIN_DEFAULTS, RESUME_MUTABLE, resolvePretrainOptions } from './options';
export type { PretrainOptions, ResolvedPretrainOptions } from './options';
export { checkLoopOptions, checkOption, FINETUNE_LOOP_DEFAULTS, FINETUNE_LOOP_RESUME_MUTABLE, resolveFinetuneLoop } from './loopOptions';
export type { FinetuneLoopDefaults, FinetuneLoopOptions, ResolvedFinetuneLoop } from './loopOptions';
export { METRICS_FILE, RUN_FILE, MetricsLog, readMetrics } from './events';
export type { TrainEvent } from './events';
export { mergeForResume, planRunStart, pretrainRunRule, readRunRecord, resumeConflicts, writeRunRecord } from './runFolder';
export type { RunKind, RunOptionsRule, RunRecord, RunStart } from './runFolder';
export { learningRateAt } from './schedule';
export type { LrSchedule } from './schedule';
export { AdamW } from './optimizer';
export type { AdamWOptions } from './optimizer';
export { accumulateGradients, computeGradients, clipGradients, globalNorm, dropoutSeed, tokenBatchLoss } from './step';
export type { TokenBatch, Gradients, MicroBatchLoss } from './step';
export { validationLoss, greedyContinue } from './monitor';
export { estimateRun } from './estimate';
export type { RunEstimate } from './estimate';
export { fingerprintTokens, windowCount } from './data';
