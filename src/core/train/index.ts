// Pretraining: the run loop, its options and events, the schedule and optimizer it uses, run estimates.
// See README "Training and checkpoints" for the run-folder layout and the defaults.
export { pretrain } from './pretrain';
export type { PretrainHooks, TrainResult } from './pretrain';
export { PRETRAIN_DEFAULTS, RESUME_MUTABLE, resolvePretrainOptions } from './options';
export type { PretrainOptions, ResolvedPretrainOptions } from './options';
export { METRICS_FILE, RUN_FILE, MetricsLog, readMetrics } from './events';
export type { TrainEvent } from './events';
export { readRunRecord } from './runFolder';
export type { RunRecord } from './runFolder';
export { learningRateAt } from './schedule';
export type { LrSchedule } from './schedule';
export { AdamW } from './optimizer';
export type { AdamWOptions } from './optimizer';
export { computeGradients, clipGradients, globalNorm, dropoutSeed } from './step';
export type { TokenBatch, Gradients } from './step';
export { validationLoss, greedyContinue } from './monitor';
export { estimateRun } from './estimate';
export type { RunEstimate } from './estimate';
export { fingerprintTokens, windowCount } from './data';
